// Paired comparisons of a sweep's students, subject by subject.
//
// A comparison is strategy X against baseline B for one (family, student model, teacher): every
// distilled cell against scratch ("none", same family and model), and DKD against soft
// distillation (same family, model and teacher). The unit of pairing is the (fold, seed, subject):
// the two runs were trained on the same fold with the same seed and tested on the same subject,
// and d = MAE_X - MAE_B there (negative: X is better). A subject's difference is the mean of its
// pairs over seeds; the subjects are the independent units:
//   - the mean over subjects of the subject differences, with a percentile-bootstrap 95 % interval
//     (subjects resampled with replacement, stats.h);
//   - the Wilcoxon signed-rank p of the subject differences (stats.h: exact, with ties, up to 50
//     non-zero differences; normal approximation above);
//   - Holm's adjustment over the family formed by ALL comparisons of the report (both kinds).
// A difference is resolved only when its interval excludes zero.
// Not here: reading the store (sweep_report.h), formatting (sweep_markdown.cpp, sweep_tables.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/stats.h"
#include "analysis/sweep_report.h"

namespace ppgkd {

struct PairedComparison {
  std::string family, model, teacher_model;  // teacher "" only when both sides are teacher-free
  int64_t params = 0;
  std::string strategy, baseline;  // X and B ("dkd" vs "none", "dkd" vs "soft", ...)
  size_t pairs = 0;                // (fold, seed, subject) units present in both cells
  size_t subjects = 0;             // subjects with at least one pair
  double mean_diff = 0;            // BPM, mean over subjects of MAE_X - MAE_B
  Interval ci;                     // percentile bootstrap over subjects
  WilcoxonResult wilcoxon;
  double p_holm = 1;
  bool resolved = false;  // ci excludes zero
};

// X against B on their shared (fold, seed, subject) units; p_holm is the raw p (no family yet).
// NaN mean and interval when they share no unit.
PairedComparison compare_cells(const SweepCell& x, const SweepCell& baseline, int n_boot,
                               uint64_t seed, double level = 0.95);

// Every distilled student against its scratch twin, then every DKD cell against the soft cell of
// the same teacher and model; Holm-adjusted together. Order: family, model size, teacher,
// strategy (the soft baselines after the scratch ones).
std::vector<PairedComparison> paired_comparisons(const SweepResults& r, int n_boot, uint64_t seed);

}  // namespace ppgkd
