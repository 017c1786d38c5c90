// What a sweep measured, in tables, figures and fitted laws, and the budget advice drawn from it.
// Reads the sweep's store (OUT/sweep.db), never the run directories. Students are aggregated per
// cell (family, strategy, teacher, model): each subject's MAE is averaged over seeds first, and
// the cell's MAE is the mean over subjects (the protocol's subject-averaged MAE). Each cell also
// keeps every (fold, seed, subject) MAE, so that comparisons can be paired and the spread over
// seeds and over folds reported.
// With an m4_ladder.csv (bench/m4_ladder.sh), the memory table gains the students' measured
// Cortex-M4 footprint and instruction counts, joined by canonical spec.
// The report is built in stages, one file each: load (sweep_load.cpp), fit (sweep_fit.cpp),
// paired statistics (sweep_paired.h), tables (sweep_tables.cpp), figures (sweep_figures.cpp),
// Markdown (sweep_markdown.cpp); write_sweep_report (sweep_report.cpp) runs them in order.
// Not here: the fits (scaling_fit.h), the statistics (stats.h), the drawing (sweep_plots.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "analysis/scaling_fit.h"

namespace ppgkd {

struct SweepCell {
  std::string family;         // plan label ("resnet", "mlp"), or "teacher"
  std::string strategy;       // strategy label; "none" = scratch; "" for teachers
  std::string teacher_model;  // "" for teachers and scratch students
  std::string model, spec;    // as planned; canonical spec from model.json
  int64_t params = 0, macs = 0, bytes_f32 = 0, bytes_int8 = 0;
  double mae_bpm = 0;                         // mean over subjects of the seed-averaged subject MAE
  std::map<std::string, double> subject_mae;  // seed-averaged
  // Every test subject of every run: (fold, seed, subject) -> that run's MAE on the subject.
  std::map<std::tuple<int, uint64_t, std::string>, double> unit_mae;
  // Spread of the cell's MAE. Over seeds: the SD of the per-seed MAEs (each the mean over
  // subjects of that seed's runs). Over folds: the SD of the per-fold MAEs (each the mean over
  // the fold's test subjects of their seed-averaged MAE). Sample SDs; NaN with one seed or fold.
  size_t seeds = 0, folds = 0;
  double sd_seeds = 0, sd_folds = 0;
  size_t runs = 0;
  double wall_s = 0;  // summed over runs
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

// One exported model measured on the emulated Cortex-M4: a row of bench/m4_ladder.sh's
// m4_ladder.csv. Sizes in bytes; -1 where the row has no value (the image does not fit).
struct M4Measurement {
  std::string rung;  // the CSV's name for the row ("r1", "spec1", ...)
  std::string fits;  // "yes"; "no": the deploy image exceeds the 4 MiB flash or RAM; "bench":
                     // only the benchmark image does not fit (no instruction count)
  int64_t weight_bytes = 0, blob_bytes = 0, arena_bytes = 0;  // of the export
  int64_t flash_bytes = -1;                                   // text + data of the deploy image
  int64_t ram_bytes = -1;            // bss (arena, input window) + stack high-water mark
  int64_t instr_per_inference = -1;  // mean over the benchmark windows
};

struct M4Measurements {
  std::optional<M4Measurement> f32, int8;
};

// m4_ladder.csv by canonical spec (its `spec` column, as ModelSpec::str() writes it). Columns are
// found by name; rung, spec, quant (f32 | int8), weight_bytes, blob_bytes, arena_bytes, fits
// (yes | no | bench), text, data, bss, stack_bytes and instr_per_inference are required (the last
// five may be empty unless fits is yes). Throws Error("FILE:LINE", ...) on a missing column, a
// wrong field count, a value that is not a non-negative integer, or a spec and quant given twice.
std::map<std::string, M4Measurements> read_m4_csv(const std::string& path);

struct ReportOptions {
  int n_boot = 1000;          // bootstrap replicates of the scaling fits (each refits every law)
  int n_boot_paired = 10000;  // bootstrap replicates of each paired comparison's mean
  uint64_t seed = 1;          // of both bootstraps
  bool plots = true;
  std::string edge_csv;  // m4_ladder.csv to join to the students ("" = none)
};

// Writes DIR/report/report.md, the CSVs (students, teachers, gains, paired, teacher_effect, fits,
// memory) and, with plots, the PNGs. With options.edge_csv, the memory table and memory.csv hold
// the measured M4 columns, and the int8 bytes of measured students are exact. Returns the
// report.md path.
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
