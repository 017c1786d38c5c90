// What a sweep measured, in tables, figures and fitted laws, and the budget advice drawn from it.
// Reads the sweep's store (OUT/sweep.db), never the run directories. Students are aggregated per
// cell (family, strategy, teacher, model): each subject's MAE is averaged over seeds first, and
// the cell's MAE is the mean over subjects (the protocol's subject-averaged MAE).
// Not here: the fits (scaling_fit.h), the drawing (sweep_plots.h).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/scaling_fit.h"

namespace ppgkd {

struct SweepCell {
  std::string family;         // plan label ("resnet", "mlp"), or "teacher"
  std::string strategy;       // strategy label; "none" = scratch; "" for teachers
  std::string teacher_model;  // "" for teachers and scratch students
  std::string model, spec;    // as planned; canonical spec from model.json
  int64_t params = 0, macs = 0, bytes_f32 = 0, bytes_int8 = 0;
  double mae_bpm = 0;  // mean over subjects of the seed-averaged subject MAE
  std::map<std::string, double> subject_mae;
  size_t runs = 0;
  double wall_s = 0;    // summed over runs
  nlohmann::json edge;  // model.json "edge" measurements (arena, latency) when recorded
};

struct SweepResults {
  std::string plan_hash;
  size_t runs_total = 0, runs_done = 0, runs_failed = 0;
  std::vector<SweepCell> teachers, students;  // sorted: family, strategy, teacher, params
};

// Throws Error(DIR/sweep.db, ...) when there is no store.
SweepResults load_sweep_results(const std::string& sweep_dir);

// int8 weight bytes, approximately: one byte per parameter plus a 4-byte scale per output
// channel of every layer (from the canonical spec; params + 4 * 180 when it cannot be parsed).
int64_t approx_int8_bytes(const std::string& spec, int64_t params);

// A fitted curve: one (family, strategy, teacher) line of students over sizes.
struct CurveFit {
  std::string family, strategy, teacher_model;
  std::vector<LawAnalysis> laws;  // the laws that could be fitted
};
std::vector<CurveFit> fit_curves(const SweepResults& r, int n_boot, uint64_t seed);

struct ReportOptions {
  int n_boot = 1000;
  uint64_t seed = 1;
  bool plots = true;
};

// Writes DIR/report/report.md, the CSVs (runs, students, teachers, gains, teacher_effect, fits,
// memory) and, with plots, the PNGs. Returns the report.md path.
std::string write_sweep_report(const std::string& sweep_dir, const ReportOptions& options);

struct Budget {
  double max_bytes = 0;  // weight bytes
  double max_macs = 0;   // 0: no limit
  bool int8 = true;      // budget applies to the int8 (true) or float32 weight bytes
};

struct Recommendation {
  bool found = false;
  SweepCell best;                       // the best measured cell within budget
  Interval mae_ci;                      // bootstrap over subjects of its MAE
  std::vector<SweepCell> alternatives;  // the best cell of every other strategy within budget
  // The fitted power law of the best cell's curve at the largest size the budget allows.
  bool law_ok = false;
  double law_params = 0, law_mae = 0;
  Interval law_ci;
  bool law_extrapolates = false;  // beyond the largest measured size
  std::string text;               // the advice, human-readable
};

Recommendation recommend(const SweepResults& r, const Budget& budget, int n_boot, uint64_t seed);

}  // namespace ppgkd
