// `ppgkd data summary|windows --data DATA`: what the dataset readers find under a folder (or the
// synthetic generator, or a comma-separated list of those: data/data_spec.h, as every command).
//   summary  per dataset: recordings, subjects, labelled windows, HR min/median/max, and the
//            windows dropped with their reasons (--json: the same facts as one JSON object).
//   windows  one CSV row per labelled window, in recording order:
//            dataset,recording,subject,window,t_start_s,hr_bpm (labels printed with 17
//            significant digits, so they read back as the same doubles), to stdout or --out.
// All the work is in data/readers; this file only formats. Errors propagate as ppgkd::Error.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/summary.h"
#include "common/atomic_file.h"
#include "data/data_spec.h"

namespace ppgkd::cli {

namespace {

struct DataOptions {
  std::string data_dir;
  std::string out;    // windows only; empty = stdout
  bool json = false;  // summary only
};

std::string fmt_double(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// ---------------------------------------------------------------------------- summary

struct DatasetStats {
  size_t recordings = 0;
  std::set<std::string> subjects;
  std::vector<double> hr;
  std::map<std::string, size_t> dropped;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::map<std::string, DatasetStats> stats_by_dataset(const std::vector<Recording>& recs) {
  std::map<std::string, DatasetStats> by_dataset;
  for (const Recording& r : recs) {
    DatasetStats& s = by_dataset[r.dataset];
    s.recordings += 1;
    s.subjects.insert(r.subject);
    for (const WindowLabel& w : r.windows) s.hr.push_back(w.hr_bpm);
    for (const auto& [reason, n] : r.dropped) s.dropped[reason] += n;
  }
  return by_dataset;
}

// The summary's facts as JSON: {"data", "datasets": [{"dataset", "recordings", "subjects",
// "windows", "hr_min", "hr_median", "hr_max" (null without windows), "dropped", "dropped_by_reason"
// {reason: n}}], "total": {"recordings", "subjects", "windows", "dropped"}}.
nlohmann::json data_summary_json(const std::string& root, const std::vector<Recording>& recs) {
  nlohmann::json rows = nlohmann::json::array();
  size_t total_recs = 0, total_windows = 0, total_dropped = 0;
  std::set<std::string> all_subjects;
  for (const auto& [name, s] : stats_by_dataset(recs)) {
    nlohmann::json row = {{"dataset", name},
                          {"recordings", s.recordings},
                          {"subjects", s.subjects.size()},
                          {"windows", s.hr.size()}};
    row["hr_min"] = row["hr_median"] = row["hr_max"] = nullptr;
    if (!s.hr.empty()) {
      row["hr_min"] = *std::min_element(s.hr.begin(), s.hr.end());
      row["hr_median"] = median(s.hr);
      row["hr_max"] = *std::max_element(s.hr.begin(), s.hr.end());
    }
    size_t dropped = 0;
    nlohmann::json reasons = nlohmann::json::object();
    for (const auto& [reason, n] : s.dropped) {
      dropped += n;
      reasons[reason] = n;
    }
    row["dropped"] = dropped;
    row["dropped_by_reason"] = reasons;
    rows.push_back(row);
    total_recs += s.recordings;
    total_windows += s.hr.size();
    total_dropped += dropped;
    all_subjects.insert(s.subjects.begin(), s.subjects.end());
  }
  return {{"data", root},
          {"datasets", rows},
          {"total",
           {{"recordings", total_recs},
            {"subjects", all_subjects.size()},
            {"windows", total_windows},
            {"dropped", total_dropped}}}};
}

}  // namespace

std::string data_summary_text(const std::string& root, const std::vector<Recording>& recs) {
  const std::map<std::string, DatasetStats> by_dataset = stats_by_dataset(recs);
  std::string out = "data under " + root + "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%-10s %10s %8s %8s %7s %7s %7s  %s\n", "dataset", "recordings",
                "subjects", "windows", "hr_min", "hr_med", "hr_max", "dropped windows");
  out += line;
  size_t total_recs = 0, total_windows = 0, total_dropped = 0;
  std::set<std::string> all_subjects;
  for (const auto& [name, s] : by_dataset) {
    std::string lo = "-", med = "-", hi = "-";
    if (!s.hr.empty()) {
      lo = fmt_double("%.1f", *std::min_element(s.hr.begin(), s.hr.end()));
      med = fmt_double("%.1f", median(s.hr));
      hi = fmt_double("%.1f", *std::max_element(s.hr.begin(), s.hr.end()));
    }
    size_t dropped = 0;
    std::string reasons;
    for (const auto& [reason, n] : s.dropped) {
      dropped += n;
      reasons += (reasons.empty() ? " (" : ", ") + reason + ": " + std::to_string(n);
    }
    if (!reasons.empty()) reasons += ")";
    std::snprintf(line, sizeof line, "%-10s %10zu %8zu %8zu %7s %7s %7s  %zu", name.c_str(),
                  s.recordings, s.subjects.size(), s.hr.size(), lo.c_str(), med.c_str(), hi.c_str(),
                  dropped);
    out += line + reasons + "\n";
    total_recs += s.recordings;
    total_windows += s.hr.size();
    total_dropped += dropped;
    all_subjects.insert(s.subjects.begin(), s.subjects.end());
  }
  std::snprintf(line, sizeof line, "%-10s %10zu %8zu %8zu %7s %7s %7s  %zu\n", "total", total_recs,
                all_subjects.size(), total_windows, "", "", "", total_dropped);
  out += line;
  return out;
}

// ---------------------------------------------------------------------------- windows CSV

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string windows_csv(const std::vector<Recording>& recs) {
  std::string out = "dataset,recording,subject,window,t_start_s,hr_bpm\n";
  for (const Recording& r : recs) {
    const std::string prefix =
        csv_field(r.dataset) + "," + csv_field(r.name) + "," + csv_field(r.subject) + ",";
    for (const WindowLabel& w : r.windows) {
      out += prefix + std::to_string(w.index) + "," + fmt_double("%.17g", w.t_start_s) + "," +
             fmt_double("%.17g", w.hr_bpm) + "\n";
    }
  }
  return out;
}

void run_summary(const DataOptions& opt) {
  const std::vector<Recording> recs = load_data(opt.data_dir);
  const std::string text = opt.json ? data_summary_json(opt.data_dir, recs).dump(2) + "\n"
                                    : data_summary_text(opt.data_dir, recs);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void run_windows(const DataOptions& opt) {
  const std::vector<Recording> recs = load_data(opt.data_dir);
  const std::string csv = windows_csv(recs);
  if (opt.out.empty()) {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    write_file_atomic(opt.out, csv);
  }
}

constexpr const char* kDataHelp =
    "Dataset root (or a parent of several), synthetic[:SEED], or a comma-separated list";

}  // namespace

void setup_data(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "What the dataset readers find under a folder");
  data->require_subcommand(1);
  auto opt = std::make_shared<DataOptions>();

  CLI::App* summary = data->add_subcommand(
      "summary", "Per dataset: recordings, subjects, windows, HR range, dropped windows");
  summary->add_option("--data", opt->data_dir, kDataHelp)->required();
  summary->add_flag("--json", opt->json, "Print JSON instead of a table");
  summary->callback([opt] { run_summary(*opt); });

  CLI::App* windows = data->add_subcommand(
      "windows", "Every labelled window as CSV: dataset,recording,subject,window,t_start_s,hr_bpm");
  windows->add_option("--data", opt->data_dir, kDataHelp)->required();
  windows->add_option("--out", opt->out, "Write the CSV here (atomically) instead of stdout");
  windows->callback([opt] { run_windows(*opt); });
}

}  // namespace ppgkd::cli
