// BIDMC reader (PhysioNet CSV distribution) and the numeric CSV parser it needs. Not the
// discovery (discover.cpp).
//
// bidmc_NN_Signals.csv: 125 Hz, header "Time [s], RESP, PLETH, ..." whose names carry a leading
// space and whose set and order vary; PLETH is the PPG. bidmc_NN_Numerics.csv: 1 Hz rows
// "Time [s], HR, PULSE, RESP, SpO2"; HR is the ECG-derived heart rate (PULSE comes from the PPG
// and is never a label).
//
// Label rule: window k covers [2k, 2k + 8) s; its label is the mean of HR over the Numerics rows
// with 2k <= t < 2k + 8. A window with any missing (empty/NaN) HR value in that span, or with
// no row at all, is dropped as "missing HR".
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include "common/atomic_file.h"
#include "common/error.h"
#include "data/readers/layouts.h"
#include "data/readers/reader_util.h"
#include "data/readers/readers.h"

namespace ppgkd {

// ---------------------------------------------------------------------------- CSV parsing
// 53 files x 60k rows: the whole file is read at once and fields are parsed in place with
// std::from_chars; no per-field streams or strings.

namespace {

std::string_view strip(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())) || s.front() == '"')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '"')) {
    s.remove_suffix(1);
  }
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Parses one field; returns false when it is not a number.
bool parse_field(std::string_view f, double& out) {
  f = strip(f);
  if (f.empty() || iequals(f, "nan") || iequals(f, "na")) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (f.front() == '+') f.remove_prefix(1);
  const auto res = std::from_chars(f.data(), f.data() + f.size(), out);
  return res.ec == std::errc() && res.ptr == f.data() + f.size();
}

// Splits the next line off `rest` (handles \n and \r\n).
std::string_view next_line(std::string_view& rest) {
  const size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

namespace readers {

CsvColumns read_csv_columns(const std::string& path, const std::vector<std::string>& wanted,
                            const std::vector<bool>& required) {
  const std::string text = read_file(path);
  std::string_view rest(text);
  if (rest.empty()) throw Error(path, "empty CSV file (no header)");
  CsvColumns out;
  {
    std::string_view header = next_line(rest);
    while (true) {
      const size_t comma = header.find(',');
      out.header.emplace_back(strip(header.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
  }
  // Which wanted column each file column feeds (-1: ignored).
  std::vector<int> target(out.header.size(), -1);
  out.columns.resize(wanted.size());
  std::vector<bool> present(wanted.size(), false);
  for (size_t w = 0; w < wanted.size(); ++w) {
    for (size_t c = 0; c < out.header.size(); ++c) {
      if (target[c] < 0 && iequals(out.header[c], wanted[w])) {
        target[c] = static_cast<int>(w);
        present[w] = true;
        break;
      }
    }
    if (!present[w] && required[w]) {
      std::string list;
      for (const auto& h : out.header) list += (list.empty() ? "" : ", ") + h;
      throw Error(path, "missing column '" + wanted[w] + "' (columns: " + list + ")");
    }
  }
  size_t last_needed = 0;
  for (size_t c = 0; c < target.size(); ++c) {
    if (target[c] >= 0) last_needed = c;
  }
  const size_t approx_rows = static_cast<size_t>(std::count(rest.begin(), rest.end(), '\n')) + 1;
  for (size_t w = 0; w < wanted.size(); ++w) {
    if (present[w]) out.columns[w].reserve(approx_rows);
  }
  size_t line_no = 1;
  while (!rest.empty()) {
    const std::string_view line = next_line(rest);
    ++line_no;
    if (strip(line).empty()) continue;
    std::string_view fields = line;
    for (size_t c = 0; c <= last_needed; ++c) {
      if (fields.data() == nullptr) {
        throw Error(path + ":" + std::to_string(line_no), "row has " + std::to_string(c) +
                                                              " fields, expected " +
                                                              std::to_string(out.header.size()));
      }
      const size_t comma = fields.find(',');
      const std::string_view field = fields.substr(0, comma);
      if (target[c] >= 0) {
        double v;
        if (!parse_field(field, v)) {
          throw Error(path + ":" + std::to_string(line_no),
                      "cannot parse '" + std::string(strip(field)) + "' in column '" +
                          out.header[c] + "' as a number");
        }
        out.columns[target[c]].push_back(v);
      }
      fields = comma == std::string_view::npos ? std::string_view() : fields.substr(comma + 1);
    }
    ++out.rows;
  }
  return out;
}

}  // namespace readers

// ---------------------------------------------------------------------------- BIDMC

Recording read_bidmc(const std::string& signals_csv, const std::string& numerics_csv) {
  Recording rec;
  rec.dataset = dataset::kBidmc;
  std::string stem = readers::file_stem(signals_csv);  // bidmc_NN_Signals
  const std::string suffix = "_Signals";
  if (stem.size() > suffix.size() &&
      stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0) {
    stem.resize(stem.size() - suffix.size());
  }
  rec.name = stem;
  const std::string prefix = "bidmc_";
  rec.subject = std::string(dataset::kBidmc) + "/" +
                (stem.rfind(prefix, 0) == 0 ? stem.substr(prefix.size()) : stem);
  rec.path = signals_csv;
  rec.label_path = numerics_csv;
  rec.fs = readers::kBidmcFs;

  const readers::CsvColumns sig =
      readers::read_csv_columns(signals_csv, {"PLETH", "Time [s]"}, {true, false});
  rec.ppg.emplace_back(sig.columns[0].begin(), sig.columns[0].end());
  // The rate is fixed by the layout; the time column, when present, must agree with it.
  const std::vector<double>& ts = sig.columns[1];
  if (ts.size() >= 2) {
    const double dt = (ts.back() - ts.front()) / static_cast<double>(ts.size() - 1);
    if (!(std::fabs(dt * rec.fs - 1.0) < 0.01)) {
      throw Error(signals_csv, "time column step " + std::to_string(dt) +
                                   " s does not match the 125 Hz of the BIDMC layout");
    }
  }

  const readers::CsvColumns num =
      readers::read_csv_columns(numerics_csv, {"Time [s]", "HR"}, {true, true});
  const std::vector<double>& t = num.columns[0];
  const std::vector<double>& hr = num.columns[1];
  const size_t w = windows_that_fit(rec.num_samples(), rec.fs);
  for (size_t k = 0; k < w; ++k) {
    const double t0 = static_cast<double>(k) * kStepSeconds;
    const double t1 = t0 + kWindowSeconds;
    double sum = 0;
    size_t count = 0;
    bool missing = false;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] >= t0 && t[i] < t1) {
        if (std::isfinite(hr[i])) {
          sum += hr[i];
          ++count;
        } else {
          missing = true;
        }
      }
    }
    if (missing || count == 0) {
      rec.dropped[readers::kDropMissingHr] += 1;
    } else {
      readers::add_window(rec, k, sum / static_cast<double>(count));
    }
  }
  readers::drop_nonfinite_windows(rec);
  return rec;
}

}  // namespace ppgkd
