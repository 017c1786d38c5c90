// The budget advice: the best measured student within a weight (and MAC) budget, its
// alternatives, and what the fitted law expects at the largest size the budget allows.
#include <fmt/format.h>

#include <cmath>

#include "analysis/sweep_report_parts.h"
#include "common/error.h"

namespace ppgkd {

using report::curve_cells;
using report::num;

Recommendation recommend(const SweepResults& r, const Budget& b, int n_boot, uint64_t seed) {
  Recommendation rec;
  auto bytes = [&](const SweepCell& c) { return b.int8 ? c.bytes_int8 : c.bytes_f32; };
  auto fits_budget = [&](const SweepCell& c) {
    return bytes(c) <= b.max_bytes && (b.max_macs <= 0 || c.macs <= b.max_macs);
  };
  std::map<std::string, const SweepCell*> best_per_strategy;
  for (const auto& c : r.students) {
    if (!fits_budget(c) || !std::isfinite(c.mae_bpm)) continue;
    auto& slot = best_per_strategy[c.family + " / " + c.strategy];
    if (!slot || c.mae_bpm < slot->mae_bpm) slot = &c;
    if (!rec.found || c.mae_bpm < rec.best.mae_bpm) rec.best = c, rec.found = true;
  }
  const std::string unit = b.int8 ? "int8" : "float32";
  if (!rec.found) {
    rec.text = fmt::format("No measured student fits {} {} weight bytes{}.\n", b.max_bytes, unit,
                           b.max_macs > 0 ? fmt::format(" and {} MACs", b.max_macs) : "");
    return rec;
  }
  for (const auto& [k, c] : best_per_strategy)
    if (!(c->family == rec.best.family && c->strategy == rec.best.strategy &&
          c->model == rec.best.model && c->teacher_model == rec.best.teacher_model))
      rec.alternatives.push_back(*c);
  std::vector<double> subject_mae;
  for (const auto& [subject, v] : rec.best.subject_mae) subject_mae.push_back(v);
  rec.mae_ci = bootstrap_mean_ci(subject_mae, n_boot, seed);
  const auto& c = rec.best;
  rec.text = fmt::format(
      "Best measured under {} {} bytes{}: {} student {} ({}) with strategy {}{}\n"
      "  {} params, {} MACs/window, {} {} bytes; MAE {} BPM (95% CI {} to {}, {} subjects)\n",
      b.max_bytes, unit, b.max_macs > 0 ? fmt::format(" and {} MACs", b.max_macs) : "", c.family,
      c.model, c.spec, c.strategy,
      c.teacher_model.empty() ? "" : " from teacher " + c.teacher_model, c.params, c.macs, bytes(c),
      unit, num(c.mae_bpm, 2), num(rec.mae_ci.lo, 2), num(rec.mae_ci.hi, 2), c.subject_mae.size());
  for (const auto& a : rec.alternatives)
    rec.text += fmt::format("  alternative: {} / {}{} {} ({} params): MAE {} BPM\n", a.family,
                            a.strategy, a.teacher_model.empty() ? "" : " <- " + a.teacher_model,
                            a.model, a.params, num(a.mae_bpm, 2));
  // The fitted law of the best curve at the largest size the budget allows, scaling bytes and
  // MACs with parameters as the curve's largest measured student does.
  std::vector<SizeSubjects> sizes;
  const SweepCell* largest = nullptr;
  for (const auto* cell : curve_cells(r, c.family, c.strategy, c.teacher_model)) {
    sizes.push_back({double(cell->params), cell->subject_mae});
    if (!largest || cell->params > largest->params) largest = cell;
  }
  try {
    const auto law = analyse_law(ScalingLaw::kPower, sizes, n_boot, seed);
    double n_max = b.max_bytes * double(largest->params) / double(bytes(*largest));
    if (b.max_macs > 0)
      n_max = std::min(n_max, b.max_macs * double(largest->params) / double(largest->macs));
    rec.law_ok = true;
    rec.law_params = n_max;
    rec.law_mae = law.fit.predict(n_max);
    rec.law_ci = law.prediction_ci(n_max);
    rec.law_extrapolates = n_max > double(largest->params);
    rec.text += fmt::format(
        "Fitted law ({}, R^2 {}): at ~{:.0f} params (the most the budget allows for this curve) "
        "expected MAE {} BPM (95% CI {} to {}){}\n",
        law_formula(ScalingLaw::kPower), num(law.fit.r2, 3), n_max, num(rec.law_mae, 2),
        num(rec.law_ci.lo, 2), num(rec.law_ci.hi, 2),
        rec.law_extrapolates ? "; this extrapolates beyond the largest measured student" : "");
  } catch (const Error&) {
    rec.text += "Fitted law: too few sizes on this curve to fit MAE = a*N^(-b) + c.\n";
  }
  return rec;
}

}  // namespace ppgkd
