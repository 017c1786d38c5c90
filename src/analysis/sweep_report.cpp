// write_sweep_report: the report's stages in order, and the helpers they share.
#include "analysis/sweep_report.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "analysis/sweep_report_parts.h"
#include "common/atomic_file.h"

namespace ppgkd {

namespace report {

const M4Measurements* ReportData::m4_of(const SweepCell& c) const {
  auto it = m4.find(c.spec);
  return it == m4.end() ? nullptr : &it->second;
}

std::string curve_name(const std::string& family, const std::string& strategy,
                       const std::string& teacher) {
  return family + " / " + strategy + (teacher.empty() ? "" : " / teacher " + teacher);
}

// The students of one curve, by size.
std::vector<const SweepCell*> curve_cells(const SweepResults& r, const std::string& family,
                                          const std::string& strategy, const std::string& teacher) {
  std::vector<const SweepCell*> out;
  for (const auto& c : r.students)
    if (c.family == family && c.strategy == strategy && c.teacher_model == teacher)
      out.push_back(&c);
  return out;
}

std::set<std::tuple<std::string, std::string, std::string>> curves_of(const SweepResults& r) {
  std::set<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& c : r.students) out.insert({c.family, c.strategy, c.teacher_model});
  return out;
}

std::string num(double v, int digits) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "n/a";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// A gnuplot expression for a fitted law (x = parameter count).
std::string gnuplot_curve(const LawFit& f) {
  // The reference-size form: no coefficient far outside the data (a can be 1e40).
  const double excess = f.e_ref - f.c;
  switch (f.law) {
    case ScalingLaw::kExpLog10:
      return fmt::format("{:.10g}*exp(-{:.10g}*log10(x/{:.10g}))+{:.10g}", excess, f.b, f.n_ref,
                         f.c);
    case ScalingLaw::kPower:
    case ScalingLaw::kPower0:
      return fmt::format("{:.10g}*(x/{:.10g})**(-{:.10g})+{:.10g}", excess, f.n_ref, f.b, f.c);
    case ScalingLaw::kLogLinear:
      return fmt::format("{:.10g}-{:.10g}*log10(x/{:.10g})", f.e_ref, f.b, f.n_ref);
  }
  return "";
}

const LawAnalysis* find_law(const CurveFit& cf, ScalingLaw law) {
  for (const auto& l : cf.laws)
    if (l.fit.law == law) return &l;
  return nullptr;
}

// Scratch MAE of the same family and model (nullptr when absent).
const SweepCell* scratch_of(const SweepResults& r, const SweepCell& c) {
  for (const auto& s : r.students)
    if (s.family == c.family && s.strategy == "none" && s.model == c.model) return &s;
  return nullptr;
}

// A measured size or count; "" (CSV) or "-" (Markdown) when absent.
std::string measured(int64_t v, bool md) {
  return v >= 0 ? std::to_string(v) : md ? "-" : "";
}

// Students' memory and compute, one row per (family, model).
std::vector<const SweepCell*> memory_rows(const SweepResults& r) {
  std::vector<const SweepCell*> out;
  std::set<std::string> seen;
  for (const auto& c : r.students)
    if (seen.insert(c.family + "|" + c.model).second) out.push_back(&c);
  return out;
}

std::string csv_num(double v) {
  return std::isfinite(v) ? fmt::format("{:.6f}", v) : "";
}

}  // namespace report

std::string write_sweep_report(const std::string& sweep_dir, const ReportOptions& o) {
  report::ReportData data;
  data.sweep_dir = sweep_dir;
  data.options = o;
  data.results = load_sweep_results(sweep_dir);
  // The M4 measurements first, so a malformed CSV fails before anything is written.
  if (!o.edge_csv.empty()) data.m4 = read_m4_csv(o.edge_csv);
  data.dir = sweep_dir + "/report";
  std::filesystem::create_directories(data.dir);
  data.fits = fit_curves(data.results, o.n_boot, o.seed);
  data.paired = paired_comparisons(data.results, o.n_boot_paired, o.seed);
  for (const auto& c : data.results.students) data.families.insert(c.family);
  report::write_tables(data);
  const auto pngs = report::draw_figures(data);
  const std::string path = data.dir + "/report.md";
  write_file_atomic(path, report::markdown(data, pngs));
  return path;
}

}  // namespace ppgkd
