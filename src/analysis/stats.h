// Small-sample statistics for paired comparisons over subjects: the percentile bootstrap of a
// mean, the Wilcoxon signed-rank test and Holm's step-down correction, plus the quantile and
// standard deviation they rest on. Plain C++ (no GSL): every routine is a few lines that the
// tests check against brute-force enumeration and hand-worked values.
//
// Randomness is std::mt19937_64, whose output sequence the C++ standard fixes, drawn with a
// modulo (std distributions are not portable), so one seed gives one interval everywhere.
// Not here: what is compared with what (sweep_paired.h), scaling-law fits (scaling_fit.h).
#pragma once

#include <cstdint>
#include <vector>

namespace ppgkd {

struct Interval {
  double lo = 0, hi = 0;
};

// The q-quantile (0..1) of v with linear interpolation between order statistics; NaN when empty.
double quantile(std::vector<double> v, double q);

double mean(const std::vector<double>& v);  // NaN when empty
// Sample standard deviation (n - 1 denominator); NaN with fewer than two values.
double sample_sd(const std::vector<double>& v);

// Percentile bootstrap interval of the mean of v: n_boot resamples of v's size drawn with
// replacement from `seed`, the (1-level)/2 and (1+level)/2 quantiles of their means.
// NaN bounds when v is empty.
Interval bootstrap_mean_ci(const std::vector<double>& v, int n_boot, uint64_t seed,
                           double level = 0.95);

// Wilcoxon signed-rank test of "the differences are symmetric about zero", two-sided.
// Zeros are dropped (Wilcoxon's original treatment; n counts the non-zero differences); tied
// |d| get mid-ranks. W+ is the sum of the ranks of the positive differences.
// Exact for n <= kWilcoxonExactMax: the permutation distribution of W+ over the 2^n sign
// assignments of the observed (mid-)ranks, computed by dynamic programming over doubled ranks
// (integers), so it stays exact with ties. Above that, the normal approximation with the tie
// correction of the variance and a continuity correction of 1/2.
// p = min(1, 2 min(P(W+ <= w), P(W+ >= w))); 1 when n = 0.
constexpr int kWilcoxonExactMax = 50;
struct WilcoxonResult {
  int n = 0;      // non-zero differences
  int zeros = 0;  // dropped
  double w_plus = 0;
  double p = 1;
  bool exact = true;
};
WilcoxonResult wilcoxon_signed_rank(const std::vector<double>& d);

// Holm's step-down adjustment of a family of p-values (same order as given): sort ascending,
// multiply the i-th smallest (0-based) by (m - i), take the running maximum, cap at 1.
// NaN entries are not part of the family and stay NaN.
std::vector<double> holm_adjust(const std::vector<double>& p);

}  // namespace ppgkd
