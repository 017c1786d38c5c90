// The sweep report's report.md: teachers, students per family (mean, spread over seeds and
// folds), paired comparisons, scaling laws, memory.
#include <fmt/format.h>

#include <cmath>
#include <map>
#include <utility>

#include "analysis/sweep_report_parts.h"
#include "common/run_record.h"

namespace ppgkd::report {

namespace {

std::string paired_section(const ReportData& data) {
  const auto& o = data.options;
  std::string md = fmt::format(
      "\n## Paired comparisons\n\n"
      "Each distilled student against scratch (same family and model), and DKD against soft "
      "distillation (same teacher and model). Pairs are (fold, seed, subject): both runs "
      "trained on the same fold with the same seed, tested on the same subject. Delta = MAE of "
      "the strategy - MAE of the baseline (negative: the strategy is better), averaged over "
      "seeds per subject, then over subjects. CI: 95 % percentile bootstrap over subjects "
      "(B = {}, seed {}). p: two-sided Wilcoxon signed-rank on the subject differences (zeros "
      "dropped, mid-ranks for ties; exact permutation distribution up to {} non-zero "
      "differences, else the normal approximation with tie and continuity corrections), "
      "Holm-adjusted over all {} comparisons of this report. **A difference is resolved only "
      "where its CI excludes zero.**\n\n",
      o.n_boot_paired, o.seed, kWilcoxonExactMax, data.paired.size());
  size_t better = 0, worse = 0;
  for (const auto& p : data.paired)
    if (p.resolved) (p.mean_diff < 0 ? better : worse) += 1;
  md += fmt::format(
      "Resolved: {} of {} comparisons ({} with the strategy better, {} worse); {} unresolved.\n\n",
      better + worse, data.paired.size(), better, worse, data.paired.size() - better - worse);
  for (const auto& fam : data.families) {
    md += "### " + fam +
          "\n\n"
          "| model | params | teacher | comparison | subjects | pairs | Delta MAE (BPM) [95% CI] "
          "| W+ | p | p (Holm) | resolved |\n"
          "|---|---:|---|---|---:|---:|---|---:|---:|---:|---|\n";
    for (const auto& p : data.paired) {
      if (p.family != fam) continue;
      md += fmt::format(
          "| {} | {} | {} | {} - {} | {} | {} | {} [{}, {}] | {} | {:.3g}{} | {:.3g} | {} |\n",
          p.model, p.params, p.teacher_model.empty() ? "-" : p.teacher_model, p.strategy,
          p.baseline == "none" ? "scratch" : p.baseline, p.subjects, p.pairs, num(p.mean_diff),
          num(p.ci.lo), num(p.ci.hi), p.wilcoxon.w_plus, p.wilcoxon.p,
          p.wilcoxon.exact ? "" : " (normal)", p.p_holm,
          p.resolved ? (p.mean_diff < 0 ? "yes, better" : "yes, worse") : "no");
    }
    md += "\n";
  }
  return md;
}

std::string scaling_section(const ReportData& data) {
  const auto& o = data.options;
  std::string md = fmt::format(
      "\n## Scaling laws\n\n"
      "Fitted to each curve's per-size MAE (mean over subjects of the seed-averaged subject "
      "MAE). Every law is shown in its reference-size form: E_ref is the fitted MAE at N_ref, the "
      "geometric mean of the curve's sizes, where the data pin it down (the coefficient a of "
      "the N = 1 form is E_ref's extrapolation to one parameter and is in fits.csv only). "
      "exp-log10 and power are one family (b_exp = b_pow ln 10). Intervals: {}-replicate "
      "bootstrap over subjects. A fit is **ill-conditioned** when under 90 % of the "
      "replicates refit, an interval is not finite, the b interval reaches zero or spans more "
      "than a factor of 4, or the c interval is wider than the curve's MAE range; then only "
      "E_ref and the curve inside the measured sizes mean something. Extrapolation: refit "
      "without the largest size, predicted - observed MAE there (target: |error| <= 0.5 BPM).\n\n",
      o.n_boot);
  // Per law: curves whose leave-largest-out error is within 0.5 BPM.
  std::map<ScalingLaw, std::pair<size_t, size_t>> within;  // law -> (within, extrapolated)
  for (const auto& cf : data.fits)
    for (const auto& l : cf.laws)
      if (l.extrapolation_ok) {
        auto& w = within[l.fit.law];
        ++w.second;
        w.first += std::abs(l.extrapolation_err) <= 0.5;
      }
  md += "| law | form | curves within 0.5 BPM at the left-out largest size |\n|---|---|---:|\n";
  for (const auto& [law, w] : within)
    md += fmt::format("| {} | `{}` | {} of {} ({:.0f} %) |\n", law_name(law), law_ref_formula(law),
                      w.first, w.second, 100.0 * w.first / w.second);
  md +=
      "\n| curve | law | N_ref | E_ref [CI] | b [CI] | c [CI] | R^2 | sizes | conditioning | "
      "extrapolation error (BPM) |\n"
      "|---|---|---:|---|---|---|---:|---:|---|---:|\n";
  for (const auto& cf : data.fits) {
    if (cf.laws.empty())
      md += fmt::format("| {} | (too few sizes) | | | | | | | | |\n",
                        curve_name(cf.family, cf.strategy, cf.teacher_model));
    for (const auto& l : cf.laws)
      md += fmt::format(
          "| {} | {} | {:.0f} | {} [{}, {}] | {} [{}, {}] | {} | {} | {} | {} | {} |\n",
          curve_name(cf.family, cf.strategy, cf.teacher_model), law_name(l.fit.law), l.fit.n_ref,
          num(l.fit.e_ref), num(l.e_ref_ci.lo), num(l.e_ref_ci.hi), num(l.fit.b, 4),
          num(l.b_ci.lo, 4), num(l.b_ci.hi, 4),
          law_parameters(l.fit.law) == 2
              ? std::string("-")
              : fmt::format("{} [{}, {}]", num(l.fit.c), num(l.c_ci.lo), num(l.c_ci.hi)),
          num(l.fit.r2, 4), l.fit.points,
          l.ill_conditioned ? "ill-conditioned: " + l.condition : std::string("ok"),
          l.extrapolation_ok ? num(l.extrapolation_err) : std::string("n/a"));
  }
  return md;
}

}  // namespace

std::string markdown(const ReportData& data,
                     const std::map<std::string, std::vector<std::string>>& pngs) {
  const auto& r = data.results;
  const auto& o = data.options;
  const auto& families = data.families;
  const auto& sweep_dir = data.sweep_dir;
  auto m4_of = [&](const SweepCell& c) { return data.m4_of(c); };
  std::string md = "# Capacity sweep report\n\n";
  md += fmt::format(
      "Sweep `{}`, plan {}: {} runs, {} done, {} failed. Generated {} by ppgkd "
      "(commit {}). MAE is subject-averaged (each subject's MAE averaged over "
      "seeds, then over subjects); intervals are {}-replicate percentile bootstraps "
      "over subjects (seed {}).\n\n",
      sweep_dir, r.plan_hash, r.runs_total, r.runs_done, r.runs_failed,
      run_context()["date"].get<std::string>(), git_commit(), o.n_boot, o.seed);
  md +=
      "## Teachers\n\n| model | spec | params | MACs/window | MAE (BPM) | subjects | runs |\n"
      "|---|---|---:|---:|---:|---:|---:|\n";
  for (const auto& c : r.teachers)
    md += fmt::format("| {} | `{}` | {} | {} | {} | {} | {} |\n", c.model, c.spec, c.params, c.macs,
                      num(c.mae_bpm), c.subject_mae.size(), c.runs);
  for (const auto& fam : families) {
    md += "\n## Students: " + fam + "\n\n";
    if (auto it = pngs.find(fam); it != pngs.end())
      for (const auto& png : it->second) {
        const std::string svg = png.substr(0, png.size() - 4) + ".svg";
        md += "![" + png + "](" + png + ") ([SVG](" + svg + "))\n\n";
      }
    if (pngs.count(fam))
      md +=
          "Figures: one colour per strategy, one marker per teacher (by size); fitted power laws "
          "dashed; bands are 95 % bootstrap intervals over subjects (of the cell's MAE; of the "
          "paired difference against scratch for the gains).\n\n";
    md +=
        "MAE: mean over subjects of the seed-averaged subject MAE. SD seeds: standard deviation "
        "of the per-seed MAEs; SD folds: of the per-fold MAEs (\"n/a\" with one seed or fold). "
        "Gain: scratch MAE - MAE; whether it is real is in the paired comparisons below.\n\n"
        "| strategy | teacher | model | params | MAE (BPM) | SD seeds | SD folds | gain over "
        "scratch | subjects | seeds | folds | runs |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& c : r.students) {
      if (c.family != fam) continue;
      const auto* s = scratch_of(r, c);
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                        c.strategy, c.teacher_model.empty() ? "-" : c.teacher_model, c.model,
                        c.params, num(c.mae_bpm), num(c.sd_seeds), num(c.sd_folds),
                        s && c.strategy != "none" ? num(s->mae_bpm - c.mae_bpm) : "-",
                        c.subject_mae.size(), c.seeds, c.folds, c.runs);
    }
  }
  md += paired_section(data);
  md += scaling_section(data);
  md += "\n## Memory and compute per student\n\n";
  if (o.edge_csv.empty()) {
    md +=
        "int8 bytes are approximate: one byte per parameter plus a 4-byte scale per output "
        "channel.\n\n"
        "| family | model | params | MACs/window | float32 bytes | int8 bytes |\n"
        "|---|---|---:|---:|---:|---:|\n";
    for (const auto* c : memory_rows(r))
      md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", c->family, c->model, c->params,
                        c->macs, c->bytes_f32, c->bytes_int8);
  } else {
    const auto rows = memory_rows(r);
    size_t matched = 0;
    for (const auto* c : rows) matched += m4_of(*c) != nullptr;
    md += fmt::format(
        "Measured on an emulated Cortex-M4 (`{}`, from bench/m4_ladder.sh; {} of {} students "
        "measured, joined by canonical spec; \"-\": not measured). int8 bytes: the int8 "
        "export's weight and bias bytes, exact where measured, else approximate (one byte per "
        "parameter plus a 4-byte scale per output channel). blob: the exported model file. "
        "flash: text + data of a firmware image with only the runtime and the model; RAM: its "
        "bss (arena and one input window) + the stack high-water mark of `ppgkd_run`; arena: "
        "the activations' share of RAM. instructions: per inference (forward pass + decoding), "
        "under `qemu-system-arm -icount`. \"does not fit\": the image exceeds the emulator's "
        "4 MiB of flash or RAM.\n\n"
        "| family | model | params | MACs/window | float32 bytes | int8 bytes | int8 blob B | "
        "int8 flash B | int8 RAM B | int8 arena B | int8 M4 instructions | f32 flash B | "
        "f32 RAM B | f32 M4 instructions |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        o.edge_csv, matched, rows.size());
    // blob, flash, RAM, arena, instructions of one quantisation ("-" where not measured).
    auto cells = [](const std::optional<M4Measurement>& m, bool with_blob_arena) {
      std::vector<std::string> v;
      if (!m) {
        v.assign(with_blob_arena ? 5 : 3, "-");
      } else {
        const bool no_fit = m->fits == "no";
        if (with_blob_arena) v.push_back(std::to_string(m->blob_bytes));
        v.push_back(no_fit ? "does not fit" : measured(m->flash_bytes, true));
        v.push_back(measured(m->ram_bytes, true));
        if (with_blob_arena) v.push_back(std::to_string(m->arena_bytes));
        v.push_back(m->fits == "bench" ? "bench image does not fit"
                                       : measured(m->instr_per_inference, true));
      }
      std::string out;
      for (const auto& x : v) out += " " + x + " |";
      return out;
    };
    for (const auto* c : rows) {
      const auto* e = m4_of(*c);
      const std::optional<M4Measurement> none;
      const auto& i8 = e ? e->int8 : none;
      const auto& f32 = e ? e->f32 : none;
      md += fmt::format("| {} | {} | {} | {} | {} | {} |{}{}\n", c->family, c->model, c->params,
                        c->macs, c->bytes_f32,
                        i8 ? fmt::format("{} (exact)", i8->weight_bytes)
                           : fmt::format("{} (approx.)", c->bytes_int8),
                        cells(i8, true), cells(f32, false));
    }
  }
  md +=
      "\nCSV: students.csv, teachers.csv, gains.csv, paired.csv, teacher_effect.csv, fits.csv, "
      "memory.csv.\n";
  return md;
}

}  // namespace ppgkd::report
