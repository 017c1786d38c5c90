// The sweep report's CSVs: students, teachers, gains, paired, teacher_effect, fits, memory.
#include <fmt/format.h>

#include <cmath>

#include "analysis/sweep_report_parts.h"
#include "common/atomic_file.h"

namespace ppgkd::report {

void write_tables(const ReportData& data) {
  const auto& r = data.results;
  const auto& o = data.options;
  const auto& fits = data.fits;
  const auto& dir = data.dir;
  auto m4_of = [&](const SweepCell& c) { return data.m4_of(c); };
  std::string students =
      "family,strategy,teacher,model,spec,params,macs,bytes_f32,bytes_int8,"
      "mae_bpm,subjects,runs,seeds,sd_seeds_bpm,folds,sd_folds_bpm\n";
  for (const auto& c : r.students)
    students += fmt::format("{},{},{},{},{},{},{},{},{},{:.6f},{},{},{},{},{},{}\n",
                            csv_field(c.family), csv_field(c.strategy), csv_field(c.teacher_model),
                            csv_field(c.model), csv_field(c.spec), c.params, c.macs, c.bytes_f32,
                            c.bytes_int8, c.mae_bpm, c.subject_mae.size(), c.runs, c.seeds,
                            csv_num(c.sd_seeds), c.folds, csv_num(c.sd_folds));
  write_file_atomic(dir + "/students.csv", students);
  std::string teachers = "model,spec,params,macs,bytes_f32,mae_bpm,subjects,runs\n";
  for (const auto& c : r.teachers)
    teachers += fmt::format("{},{},{},{},{},{:.6f},{},{}\n", csv_field(c.model), csv_field(c.spec),
                            c.params, c.macs, c.bytes_f32, c.mae_bpm, c.subject_mae.size(), c.runs);
  write_file_atomic(dir + "/teachers.csv", teachers);
  std::string gains = "family,strategy,teacher,model,params,scratch_mae_bpm,mae_bpm,gain_bpm\n";
  for (const auto& c : r.students) {
    if (c.strategy == "none") continue;
    const auto* s = scratch_of(r, c);
    if (!s) continue;
    gains += fmt::format("{},{},{},{},{},{:.6f},{:.6f},{:.6f}\n", csv_field(c.family),
                         csv_field(c.strategy), csv_field(c.teacher_model), csv_field(c.model),
                         c.params, s->mae_bpm, c.mae_bpm, s->mae_bpm - c.mae_bpm);
  }
  write_file_atomic(dir + "/gains.csv", gains);
  std::string paired =
      "family,model,params,teacher,strategy,baseline,pairs,subjects,mean_diff_bpm,ci_lo,ci_hi,"
      "wilcoxon_n,wilcoxon_zeros,wilcoxon_w_plus,wilcoxon_p,wilcoxon_exact,p_holm,resolved\n";
  for (const auto& p : data.paired)
    paired += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{},{:.6g},{}\n",
                          csv_field(p.family), csv_field(p.model), p.params,
                          csv_field(p.teacher_model), csv_field(p.strategy), csv_field(p.baseline),
                          p.pairs, p.subjects, csv_num(p.mean_diff), csv_num(p.ci.lo),
                          csv_num(p.ci.hi), p.wilcoxon.n, p.wilcoxon.zeros, p.wilcoxon.w_plus,
                          p.wilcoxon.p, p.wilcoxon.exact ? 1 : 0, p.p_holm, p.resolved ? 1 : 0);
  write_file_atomic(dir + "/paired.csv", paired);
  std::map<std::string, int64_t> teacher_params;
  for (const auto& t : r.teachers) teacher_params[t.model] = t.params;
  std::string teff = "family,model,params,strategy,teacher,teacher_params,mae_bpm\n";
  for (const auto& c : r.students)
    if (!c.teacher_model.empty())
      teff += fmt::format("{},{},{},{},{},{},{:.6f}\n", csv_field(c.family), csv_field(c.model),
                          c.params, csv_field(c.strategy), csv_field(c.teacher_model),
                          teacher_params[c.teacher_model], c.mae_bpm);
  write_file_atomic(dir + "/teacher_effect.csv", teff);
  std::string fcsv =
      "family,strategy,teacher,law,formula,a,a_lo,a_hi,b,b_lo,b_hi,c,c_lo,c_hi,r2,points,"
      "boot_ok,extrap_params,extrap_pred,extrap_obs,extrap_err,n_ref,e_ref,e_ref_lo,e_ref_hi,"
      "ill_conditioned,condition\n";
  for (const auto& cf : fits)
    for (const auto& l : cf.laws)
      fcsv += fmt::format(
          "{},{},{},{},{},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{:.8g},{},"
          "{},{},{},{},{},{:.8g},{:.8g},{:.8g},{:.8g},{},{}\n",
          csv_field(cf.family), csv_field(cf.strategy), csv_field(cf.teacher_model),
          law_name(l.fit.law), csv_field(law_formula(l.fit.law)), l.fit.a, l.a_ci.lo, l.a_ci.hi,
          l.fit.b, l.b_ci.lo, l.b_ci.hi, l.fit.c, l.c_ci.lo, l.c_ci.hi, l.fit.r2, l.fit.points,
          l.boot_ok, l.extrapolation_ok ? fmt::format("{:.0f}", l.extrapolated_n) : "",
          l.extrapolation_ok ? fmt::format("{:.6f}", l.extrapolated_pred) : "",
          l.extrapolation_ok ? fmt::format("{:.6f}", l.extrapolated_obs) : "",
          l.extrapolation_ok ? fmt::format("{:.6f}", l.extrapolation_err) : "", l.fit.n_ref,
          l.fit.e_ref, l.e_ref_ci.lo, l.e_ref_ci.hi, l.ill_conditioned ? 1 : 0,
          csv_field(l.condition));
  write_file_atomic(dir + "/fits.csv", fcsv);
  // memory.csv: without M4 measurements the int8 bytes are the approximation; with them, the
  // int8 export's exact weight bytes where measured (bytes_int8_exact = 1), and per quantisation
  // the M4 columns (empty where not measured).
  std::string mem = "family,model,spec,params,macs_per_window,bytes_f32,";
  if (o.edge_csv.empty()) {
    mem += "bytes_int8_approx\n";
  } else {
    mem += "bytes_int8,bytes_int8_exact";
    for (const char* q : {"int8", "f32"})
      mem += fmt::format(
          ",{0}_m4_rung,{0}_fits,{0}_blob_bytes,{0}_flash_bytes,{0}_ram_bytes,{0}_arena_bytes,"
          "{0}_instr_per_inference",
          q);
    mem += "\n";
  }
  for (const auto* c : memory_rows(r)) {
    mem += fmt::format("{},{},{},{},{},{},", csv_field(c->family), csv_field(c->model),
                       csv_field(c->spec), c->params, c->macs, c->bytes_f32);
    if (o.edge_csv.empty()) {
      mem += fmt::format("{}\n", c->bytes_int8);
      continue;
    }
    const auto* e = m4_of(*c);
    const bool exact = e && e->int8;
    mem += fmt::format("{},{}", exact ? e->int8->weight_bytes : c->bytes_int8, exact ? 1 : 0);
    for (const auto* q : {e ? &e->int8 : nullptr, e ? &e->f32 : nullptr}) {
      if (!q || !*q) {
        mem += ",,,,,,,";
        continue;
      }
      const auto& m = **q;
      mem += fmt::format(",{},{},{},{},{},{},{}", csv_field(m.rung), m.fits, m.blob_bytes,
                         measured(m.flash_bytes, false), measured(m.ram_bytes, false),
                         m.arena_bytes, measured(m.instr_per_inference, false));
    }
    mem += "\n";
  }
  write_file_atomic(dir + "/memory.csv", mem);
}

}  // namespace ppgkd::report
