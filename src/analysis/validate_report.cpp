// Validation report: grouping, Markdown and plots (see validate_report.h). Sections: summary,
// Markdown, plots, writing.
#include "analysis/validate_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "analysis/gnuplot.h"
#include "analysis/segments.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/recording.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- summary

namespace {

WindowEstimate to_estimate(const ValidationWindow& w) {
  return {w.estimate_bpm, w.reference_bpm, w.subject, w.dataset};
}

GroupResult group_result(std::string name, std::string protocol,
                         const std::vector<WindowEstimate>& ws) {
  GroupResult g{std::move(name), std::move(protocol), compute_metrics(ws), false};
  g.mape_ok = g.metrics.mape_percent < kMapeThresholdPercent;
  return g;
}

}  // namespace

ValidationSummary summarise_validation(const std::vector<ValidationWindow>& windows) {
  ValidationSummary s;
  std::vector<WindowEstimate> all;
  std::map<std::string, std::vector<WindowEstimate>> by_subject;
  // Protocol order of first appearance; within a protocol, segment index (-1 = after the end).
  std::vector<Protocol> protocols;
  std::map<std::string, std::map<int, std::vector<WindowEstimate>>> by_segment;
  for (const ValidationWindow& w : windows) {
    all.push_back(to_estimate(w));
    by_subject[w.subject].push_back(all.back());
    Protocol p = recording_protocol(w.dataset, w.recording);
    const int seg = segment_index(p, w.t_start_s + kWindowSeconds / 2);
    if (!by_segment.count(p.name)) protocols.push_back(p);
    by_segment[p.name][seg].push_back(all.back());
  }
  s.overall = compute_metrics(all);
  for (const auto& [subject, ws] : by_subject) s.subjects.push_back(group_result(subject, "", ws));
  for (const Protocol& p : protocols) {
    const auto& segs = by_segment[p.name];
    for (int i = 0; i < static_cast<int>(p.segments.size()); ++i) {
      auto it = segs.find(i);
      if (it == segs.end()) continue;
      s.segments.push_back(group_result(p.name + " / " + segment_label(p, i), p.name, it->second));
    }
    if (auto it = segs.find(-1); it != segs.end())
      s.segments.push_back(group_result(p.name + " / " + segment_label(p, -1), p.name, it->second));
  }
  return s;
}

// ---------------------------------------------------------------------------- Markdown

namespace {

std::string num(double v, int decimals = 2) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : std::string("n/a");
}

std::string table_header(const std::string& first) {
  return "| " + first +
         " | windows | MAE (BPM) | RMSE (BPM) | MAPE (%) | bias (BPM) | 95% LoA (BPM) | "
         "within ±5 BPM | within ±10% | MAPE < 10% |\n"
         "|---|---:|---:|---:|---:|---:|---|---:|---:|---|\n";
}

std::string table_row(const std::string& name, const HrMetrics& m, bool show_check) {
  return fmt::format("| {} | {} | {} | {} | {} | {} | {} to {} | {}% | {}% | {} |\n", name,
                     m.windows, num(m.window_mae_bpm), num(m.rmse_bpm), num(m.mape_percent),
                     num(m.ba_bias_bpm), num(m.ba_lower_bpm), num(m.ba_upper_bpm),
                     num(100 * m.within_5bpm, 1), num(100 * m.within_10pct, 1),
                     show_check ? (m.mape_percent < kMapeThresholdPercent ? "yes" : "**no**") : "");
}

}  // namespace

std::string validation_markdown(const ValidationSummary& s, const nlohmann::json& about,
                                const std::vector<std::string>& plots) {
  const HrMetrics& o = s.overall;
  std::string md = "# Heart-rate validation report\n\n";
  md += "## What was evaluated\n\n";
  for (const auto& [key, value] : about.items())
    md += "- " + key + ": " + (value.is_string() ? value.get<std::string>() : value.dump()) + "\n";
  md += "\n## Overall\n\n";
  md += fmt::format(
      "{} windows from {} subjects. MAE {} BPM (mean over subjects of each subject's MAE; {} "
      "BPM pooled over windows), RMSE {} BPM, MAPE {}%, Pearson r {}. Bland–Altman bias {} BPM, "
      "95% limits of agreement {} to {} BPM (bias ± 1.96 SD, SD {} BPM). {}% of windows within "
      "±5 BPM, {}% within ±10% of the reference.\n\n",
      o.windows, o.subjects, num(o.mae_bpm), num(o.window_mae_bpm), num(o.rmse_bpm),
      num(o.mape_percent), num(o.pearson_r, 3), num(o.ba_bias_bpm), num(o.ba_lower_bpm),
      num(o.ba_upper_bpm), num(o.ba_sd_bpm), num(100 * o.within_5bpm, 1),
      num(100 * o.within_10pct, 1));
  md += "Pooled over all windows:\n\n" + table_header("") + table_row("all", o, true) + "\n";

  md += "## Per activity segment\n\n";
  md +=
      "A window belongs to the protocol segment that contains its centre (start + 4 s); "
      "datasets without a documented protocol form one segment \"all\". MAPE < 10% is the "
      "threshold consumer heart-rate monitors are commonly held to against an ECG reference.\n\n";
  md += table_header("protocol / segment");
  for (const GroupResult& g : s.segments) md += table_row(g.group, g.metrics, true);
  const size_t failing = std::count_if(s.segments.begin(), s.segments.end(),
                                       [](const GroupResult& g) { return !g.mape_ok; });
  md += fmt::format("\n{} of {} segments meet MAPE < 10%.\n\n", s.segments.size() - failing,
                    s.segments.size());

  md += "## Per subject\n\n" + table_header("subject");
  for (const GroupResult& g : s.subjects) md += table_row(g.group, g.metrics, true);

  md += "\n## Plots\n\n";
  for (const std::string& p : plots) md += "![" + p + "](" + p + ")\n\n";

  md +=
      "## Read this first\n\n"
      "This report applies the accuracy criteria used in wearable heart-rate validation to "
      "recorded datasets. It is **not a certification** and not a clinical validation: the "
      "recordings, reference devices and protocols are those of public research datasets, not "
      "a controlled study under a standard (such as ANSI/CTA-2065), and a segment that meets "
      "MAPE < 10% here says nothing about other people, devices or activities.\n";
  return md;
}

// ---------------------------------------------------------------------------- plots

namespace {

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

void bland_altman_plot(const std::string& dir, const std::vector<ValidationWindow>& ws,
                       const HrMetrics& m) {
  std::string dat = "# mean_bpm difference_bpm (estimate - reference)\n";
  for (const auto& w : ws)
    dat += fmt::format("{:.4f} {:.4f}\n", 0.5 * (w.estimate_bpm + w.reference_bpm),
                       w.estimate_bpm - w.reference_bpm);
  write_file_atomic(dir + "/bland_altman.dat", dat);
  std::string gp = "set terminal pngcairo size 900,600\n";
  gp += "set output " + gnuplot_quote(dir + "/bland_altman.png") + "\n";
  gp +=
      "set title 'Bland-Altman: estimate vs ECG reference'\n"
      "set xlabel 'mean of estimate and reference (BPM)'\n"
      "set ylabel 'estimate - reference (BPM)'\nset grid\nset key outside right\n";
  const double sd = std::isfinite(m.ba_sd_bpm) ? m.ba_sd_bpm : 0.0;
  gp += fmt::format("bias = {:.6f}; lo = {:.6f}; hi = {:.6f}\n", m.ba_bias_bpm,
                    m.ba_bias_bpm - 1.96 * sd, m.ba_bias_bpm + 1.96 * sd);
  gp += "plot " + gnuplot_quote(dir + "/bland_altman.dat") +
        " using 1:2 with points pt 7 ps 0.4 title 'windows', "
        "bias with lines lw 2 title sprintf('bias %.2f', bias), "
        "lo with lines dt 2 title sprintf('-1.96 SD %.2f', lo), "
        "hi with lines dt 2 title sprintf('+1.96 SD %.2f', hi)\n";
  run_gnuplot(dir + "/bland_altman.gp", gp, dir + "/bland_altman.png");
}

// Returns the PNG's file name.
std::string track_plot(const std::string& dir, const std::string& dataset,
                       const std::string& recording,
                       const std::vector<const ValidationWindow*>& ws) {
  const std::string base = "track_" + safe_name(dataset) + "_" + safe_name(recording);
  std::string dat = "# t_centre_s reference_bpm estimate_bpm\n";
  for (const auto* w : ws)
    dat += fmt::format("{:.3f} {:.4f} {:.4f}\n", w->t_start_s + kWindowSeconds / 2,
                       w->reference_bpm, w->estimate_bpm);
  write_file_atomic(dir + "/" + base + ".dat", dat);
  std::string gp = "set terminal pngcairo size 900,400\n";
  gp += "set output " + gnuplot_quote(dir + "/" + base + ".png") + "\n";
  gp += "set title " + gnuplot_quote(dataset + " / " + recording) + " noenhanced\n";
  gp +=
      "set xlabel 'time (s, window centre)'\nset ylabel 'heart rate (BPM)'\nset grid\n"
      "set key outside right\n";
  const std::string f = gnuplot_quote(dir + "/" + base + ".dat");
  gp += "plot " + f + " using 1:2 with lines lw 2 title 'ECG reference', " + f +
        " using 1:3 with linespoints pt 7 ps 0.4 title 'estimate'\n";
  run_gnuplot(dir + "/" + base + ".gp", gp, dir + "/" + base + ".png");
  return base + ".png";
}

nlohmann::json group_json(const GroupResult& g) {
  nlohmann::json j = to_json(g.metrics);
  j["group"] = g.group;
  if (!g.protocol.empty()) j["protocol"] = g.protocol;
  j["mape_below_10pct"] = g.mape_ok;
  return j;
}

}  // namespace

// ---------------------------------------------------------------------------- writing

ValidationSummary write_validation_report(const std::string& out_dir,
                                          const std::vector<ValidationWindow>& windows,
                                          const nlohmann::json& about) {
  const ValidationSummary s = summarise_validation(windows);
  const std::string plot_dir = out_dir + "/plots";
  std::error_code ec;
  std::filesystem::create_directories(plot_dir, ec);
  if (ec) throw Error(plot_dir, "cannot create directory (" + ec.message() + ")");

  std::vector<std::string> plots;
  bland_altman_plot(plot_dir, windows, s.overall);
  plots.push_back("plots/bland_altman.png");
  // One plot per recording, in order of first appearance.
  std::vector<std::pair<std::string, std::string>> order;
  std::map<std::pair<std::string, std::string>, std::vector<const ValidationWindow*>> by_rec;
  for (const auto& w : windows) {
    auto key = std::make_pair(w.dataset, w.recording);
    if (!by_rec.count(key)) order.push_back(key);
    by_rec[key].push_back(&w);
  }
  for (const auto& key : order)
    plots.push_back("plots/" + track_plot(plot_dir, key.first, key.second, by_rec[key]));

  write_file_atomic(out_dir + "/report.md", validation_markdown(s, about, plots));
  nlohmann::json j;
  j["about"] = about;
  j["overall"] = to_json(s.overall);
  j["subjects"] = nlohmann::json::array();
  for (const auto& g : s.subjects) j["subjects"].push_back(group_json(g));
  j["segments"] = nlohmann::json::array();
  for (const auto& g : s.segments) j["segments"].push_back(group_json(g));
  j["mape_threshold_percent"] = kMapeThresholdPercent;
  j["note"] = "not a certification";
  write_file_atomic(out_dir + "/summary.json", j.dump(2) + "\n");
  return s;
}

}  // namespace ppgkd
