// The validation report wearable makers publish: accuracy against the ECG reference overall, per
// subject and per activity segment of the recording protocol (segments.h), as Markdown with
// PNG plots (a Bland–Altman plot, and reference vs estimate over time per recording). Each segment
// is checked against MAPE < 10%, the threshold consumer heart-rate monitors are commonly held to
// against ECG; the report says plainly that this is not a certification.
// Not here: running models (the CLI produces the estimates) or the metric definitions (metrics.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/metrics.h"

namespace ppgkd {

constexpr double kMapeThresholdPercent = 10.0;

// One evaluated window with its place in time.
struct ValidationWindow {
  std::string dataset, recording, subject;
  int window = 0;        // k
  double t_start_s = 0;  // k * 2 s
  double estimate_bpm = 0;
  double reference_bpm = 0;
};

struct GroupResult {
  std::string group;     // subject id, or "<protocol> / <segment label>"
  std::string protocol;  // segments only
  HrMetrics metrics;
  bool mape_ok = false;  // metrics.mape_percent < kMapeThresholdPercent
};

struct ValidationSummary {
  HrMetrics overall;
  std::vector<GroupResult> subjects;  // sorted by subject id
  // Per protocol in order of first appearance, then segment order; a group with no windows is
  // left out; "after protocol end" last within its protocol.
  std::vector<GroupResult> segments;
};

// Throws Error("metrics", ...) (from compute_metrics) on no windows or bad values.
ValidationSummary summarise_validation(const std::vector<ValidationWindow>& windows);

// The report text. `about` is a JSON object whose entries are listed under "What was evaluated"
// (model, data, decoding, ...); `plots` are PNG file names relative to the report.
std::string validation_markdown(const ValidationSummary& s, const nlohmann::json& about,
                                const std::vector<std::string>& plots);

// Writes out_dir/report.md, out_dir/summary.json and the plots under out_dir/plots/
// (bland_altman.png, track_<dataset>_<recording>.png, with their .dat and .gp files). Returns the
// summary. Throws Error on an unwritable directory or a gnuplot failure.
ValidationSummary write_validation_report(const std::string& out_dir,
                                          const std::vector<ValidationWindow>& windows,
                                          const nlohmann::json& about);

}  // namespace ppgkd
