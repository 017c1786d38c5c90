// The sweep report's figures per family: MAE against parameters with the fitted power law, the
// gain over scratch, and the effect of the teacher's size.
#include <algorithm>

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
  std::map<std::string, std::vector<std::string>> pngs;  // family -> files
  if (o.plots)
    for (const auto& fam : families) {
      LinePlot p{"MAE vs parameters: " + fam, "parameters", "MAE (BPM)", true, false, {}};
      LinePlot g{
          "Gain over scratch: " + fam, "parameters", "scratch MAE - MAE (BPM)", true, true, {}};
      for (const auto& cf : fits) {
        if (cf.family != fam) continue;
        PlotSeries s{
            cf.strategy + (cf.teacher_model.empty() ? "" : " <- " + cf.teacher_model), {}, ""};
        PlotSeries gs = s;
        for (const auto* c : curve_cells(r, cf.family, cf.strategy, cf.teacher_model)) {
          s.points.push_back({double(c->params), c->mae_bpm});
          if (const auto* sc = scratch_of(r, *c); sc && cf.strategy != "none")
            gs.points.push_back({double(c->params), sc->mae_bpm - c->mae_bpm});
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
      std::map<std::string, PlotSeries> lines;
      for (const auto& c : r.students)
        if (c.family == fam && !c.teacher_model.empty()) {
          auto& s = lines[c.strategy + " " + c.model];
          s.label = c.strategy + " " + c.model;
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
