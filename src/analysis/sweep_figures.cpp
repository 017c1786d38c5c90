// The sweep report's figures per family: MAE against parameters with the fitted power law, the
// gain over scratch, and the effect of the teacher's size. One colour per strategy and one marker
// per teacher (by size) in every figure; bands are 95 % bootstrap intervals over subjects (of the
// cell's MAE, and of the paired difference against scratch for the gains).
#include <algorithm>

#include "analysis/stats.h"
#include "analysis/sweep_plots.h"
#include "analysis/sweep_report_parts.h"

namespace ppgkd::report {

std::map<std::string, std::vector<std::string>> draw_figures(const ReportData& data) {
  const auto& r = data.results;
  const auto& o = data.options;
  const auto& fits = data.fits;
  const auto& dir = data.dir;
  const auto& families = data.families;
  std::map<std::string, int64_t> teacher_params;
  for (const auto& t : r.teachers) teacher_params[t.model] = t.params;
  std::vector<std::pair<int64_t, std::string>> by_size;
  for (const auto& [model, params] : teacher_params) by_size.push_back({params, model});
  std::sort(by_size.begin(), by_size.end());
  std::map<std::string, int> teacher_marker;  // "" (scratch) keeps marker 0 too
  for (size_t i = 0; i < by_size.size(); ++i) teacher_marker[by_size[i].second] = int(i);
  auto paired_ci = [&](const SweepCell& c) -> const PairedComparison* {
    for (const auto& pc : data.paired)
      if (pc.family == c.family && pc.model == c.model && pc.teacher_model == c.teacher_model &&
          pc.strategy == c.strategy && pc.baseline == "none")
        return &pc;
    return nullptr;
  };
  std::map<std::string, std::vector<std::string>> pngs;  // family -> files
  if (o.plots)
    for (const auto& fam : families) {
      LinePlot p{"MAE vs parameters: " + fam, "parameters", "MAE (BPM)", true, false, {}};
      LinePlot g{
          "Gain over scratch: " + fam, "parameters", "scratch MAE - MAE (BPM)", true, true, {}};
      for (const auto& cf : fits) {
        if (cf.family != fam) continue;
        PlotSeries s;
        s.label = cf.strategy + (cf.teacher_model.empty() ? "" : " <- " + cf.teacher_model);
        s.color = strategy_color(cf.strategy);
        s.marker = teacher_marker[cf.teacher_model];
        PlotSeries gs = s;
        for (const auto* c : curve_cells(r, cf.family, cf.strategy, cf.teacher_model)) {
          const double x = double(c->params);
          s.points.push_back({x, c->mae_bpm});
          std::vector<double> subjects;
          for (const auto& [subject, mae] : c->subject_mae) subjects.push_back(mae);
          const Interval ci = bootstrap_mean_ci(subjects, o.n_boot, o.seed);
          if (subjects.size() > 1) s.band.push_back({x, ci.lo, ci.hi});
          if (const auto* sc = scratch_of(r, *c); sc && cf.strategy != "none") {
            gs.points.push_back({x, sc->mae_bpm - c->mae_bpm});
            if (const auto* pc = paired_ci(*c); pc && pc->subjects > 1)
              gs.band.push_back({x, -pc->ci.hi, -pc->ci.lo});  // gain = -(MAE_X - MAE_scratch)
          }
        }
        if (const auto* l = find_law(cf, ScalingLaw::kPower)) s.curve = gnuplot_curve(l->fit);
        p.series.push_back(s);
        if (!gs.points.empty()) g.series.push_back(gs);
      }
      pngs[fam].push_back(draw_line_plot(dir, "mae_vs_params_" + fam, p));
      pngs[fam].push_back(draw_line_plot(dir, "gain_" + fam, g));
      // Teacher size at fixed student size: one line per (strategy, student).
      LinePlot t{"Effect of teacher size: " + fam,
                 "teacher parameters",
                 "student MAE (BPM)",
                 true,
                 false,
                 {}};
      // Here the marker tells the student sizes apart (the x axis is the teacher).
      std::vector<int64_t> sizes;
      for (const auto& c : r.students)
        if (c.family == fam) sizes.push_back(c.params);
      std::sort(sizes.begin(), sizes.end());
      sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
      std::map<std::string, PlotSeries> lines;
      for (const auto& c : r.students)
        if (c.family == fam && !c.teacher_model.empty()) {
          auto& s = lines[c.strategy + " " + c.model];
          s.label = c.strategy + " " + c.model;
          s.color = strategy_color(c.strategy);
          s.marker = int(std::lower_bound(sizes.begin(), sizes.end(), c.params) - sizes.begin());
          s.points.push_back({double(teacher_params[c.teacher_model]), c.mae_bpm});
        }
      for (auto& [k, s] : lines) {
        std::sort(s.points.begin(), s.points.end());
        t.series.push_back(s);
      }
      if (r.teachers.size() > 1 && !t.series.empty())
        pngs[fam].push_back(draw_line_plot(dir, "teacher_effect_" + fam, t));
    }

  return pngs;
}

}  // namespace ppgkd::report
