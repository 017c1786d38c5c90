// The stages of the sweep report, shared by its files and by nothing else: what the loaded and
// fitted sweep looks like to the writers, and the small formatting helpers they all use.
// load (sweep_load.cpp) -> fit (sweep_fit.cpp) + paired (sweep_paired.cpp) -> tables
// (sweep_tables.cpp), figures (sweep_figures.cpp), Markdown (sweep_markdown.cpp).
#pragma once

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "analysis/sweep_paired.h"
#include "analysis/sweep_report.h"

namespace ppgkd::report {

// Everything the writers read; built once by write_sweep_report.
struct ReportData {
  std::string sweep_dir, dir;  // the sweep, and its report/ directory
  ReportOptions options;
  SweepResults results;
  std::vector<CurveFit> fits;
  std::vector<PairedComparison> paired;
  std::map<std::string, M4Measurements> m4;  // by canonical spec; empty without --edge-csv
  std::set<std::string> families;

  const M4Measurements* m4_of(const SweepCell& c) const;
};

// ---- stages (each writes into data.dir)
void write_tables(const ReportData& data);  // the CSVs
// The PNGs per family (file names, in the order they appear); empty without options.plots.
std::map<std::string, std::vector<std::string>> draw_figures(const ReportData& data);
std::string markdown(const ReportData& data,
                     const std::map<std::string, std::vector<std::string>>& pngs);

// ---- helpers
std::string num(double v, int digits = 3);  // fixed digits, "n/a" when not finite
std::string csv_field(const std::string& s);
std::string csv_num(double v);             // "%.6f", "" when not finite
std::string measured(int64_t v, bool md);  // the value, or "" (CSV) / "-" (Markdown) when < 0
std::string curve_name(const std::string& family, const std::string& strategy,
                       const std::string& teacher);
// The students of one curve, by size.
std::vector<const SweepCell*> curve_cells(const SweepResults& r, const std::string& family,
                                          const std::string& strategy, const std::string& teacher);
std::set<std::tuple<std::string, std::string, std::string>> curves_of(const SweepResults& r);
const SweepCell* scratch_of(const SweepResults& r, const SweepCell& c);  // nullptr when absent
const LawAnalysis* find_law(const CurveFit& cf, ScalingLaw law);         // nullptr when absent
std::string gnuplot_curve(const LawFit& f);  // the law as a gnuplot expression in x = N
// Students' memory and compute, one row per (family, model).
std::vector<const SweepCell*> memory_rows(const SweepResults& r);

}  // namespace ppgkd::report
