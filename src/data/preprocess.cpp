// Preprocessing of Recordings into standardised windows (see preprocess.h). Three sections: the
// config, continuous signals (fill -> resample -> filter), and windowing.
#include "data/preprocess.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"
#include "data/dsp/filter.h"
#include "data/dsp/resample.h"
#include "data/dsp/standardise.h"

namespace ppgkd {

namespace {
constexpr const char* kConfigWhere = "preprocess config";
constexpr const char* kNonFinite = "non-finite signal";
constexpr const char* kNonFiniteLabel = "non-finite label";
constexpr const char* kPastEnd = "window past end of signal";
}  // namespace

// ---------------------------------------------------------------------------- config

nlohmann::json PreprocessConfig::to_json() const {
  return {{"fs", fs},
          {"window_s", window_s},
          {"step_s", step_s},
          {"inputs", inputs},
          {"ppg_channel", ppg_channel},
          {"band_lo_hz", band_lo_hz},
          {"band_hi_hz", band_hi_hz},
          {"band_order", band_order},
          {"acc_highpass_hz", acc_highpass_hz},
          {"acc_order", acc_order},
          {"causal", causal}};
}

PreprocessConfig PreprocessConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw Error(kConfigWhere, "must be a JSON object");
  PreprocessConfig c;
  const std::map<std::string, double*> numbers = {{"fs", &c.fs},
                                                  {"window_s", &c.window_s},
                                                  {"step_s", &c.step_s},
                                                  {"band_lo_hz", &c.band_lo_hz},
                                                  {"band_hi_hz", &c.band_hi_hz},
                                                  {"acc_highpass_hz", &c.acc_highpass_hz}};
  const std::map<std::string, int*> integers = {{"band_order", &c.band_order},
                                                {"acc_order", &c.acc_order}};
  const std::map<std::string, std::string*> strings = {{"inputs", &c.inputs},
                                                       {"ppg_channel", &c.ppg_channel}};
  for (const auto& [key, v] : j.items()) {
    if (auto n = numbers.find(key); n != numbers.end()) {
      if (!v.is_number()) throw Error(kConfigWhere, "'" + key + "' must be a number");
      *n->second = v.get<double>();
    } else if (auto i = integers.find(key); i != integers.end()) {
      if (!v.is_number_integer()) throw Error(kConfigWhere, "'" + key + "' must be an integer");
      *i->second = v.get<int>();
    } else if (auto t = strings.find(key); t != strings.end()) {
      if (!v.is_string()) throw Error(kConfigWhere, "'" + key + "' must be a string");
      *t->second = v.get<std::string>();
    } else if (key == "causal") {
      if (!v.is_boolean()) throw Error(kConfigWhere, "'causal' must be true or false");
      c.causal = v.get<bool>();
    } else {
      throw Error(kConfigWhere, "unknown key '" + key + "'");
    }
  }
  c.validate();
  return c;
}

// A channel index: decimal digits only, so "1x" or "-1" are rejected rather than half-parsed.
static bool parse_channel_index(const std::string& s, int* out) {
  if (s.empty() || s.size() > 3 ||
      !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
    return false;
  *out = std::stoi(s);
  return true;
}

void PreprocessConfig::validate() const {
  if (!(std::isfinite(fs) && fs > 0)) {
    throw Error(kConfigWhere, fmt::format("fs must be positive (got {})", fs));
  }
  if (window_s != kWindowSeconds || step_s != kStepSeconds) {
    throw Error(kConfigWhere,
                fmt::format("window_s and step_s must be {} and {}: the reference labels are "
                            "defined on that grid (got {} and {})",
                            kWindowSeconds, kStepSeconds, window_s, step_s));
  }
  if (inputs != "ppg" && inputs != "ppg+acc") {
    throw Error(kConfigWhere, "inputs must be \"ppg\" or \"ppg+acc\" (got \"" + inputs + "\")");
  }
  int index = 0;
  if (ppg_channel != "mean" && !parse_channel_index(ppg_channel, &index)) {
    throw Error(kConfigWhere, "ppg_channel must be \"mean\" or a channel index >= 0 (got \"" +
                                  ppg_channel + "\")");
  }
  if (!(band_lo_hz > 0 && band_lo_hz < band_hi_hz && band_hi_hz < fs / 2)) {
    throw Error(kConfigWhere,
                fmt::format("band must satisfy 0 < band_lo_hz < band_hi_hz < fs/2 (got {} and {} "
                            "Hz at fs {} Hz)",
                            band_lo_hz, band_hi_hz, fs));
  }
  if (!(acc_highpass_hz > 0 && acc_highpass_hz < fs / 2)) {
    throw Error(kConfigWhere, fmt::format("acc_highpass_hz must be inside (0, fs/2) (got {} Hz "
                                          "at fs {} Hz)",
                                          acc_highpass_hz, fs));
  }
  if (band_order < 1 || band_order > 10 || acc_order < 1 || acc_order > 10) {
    throw Error(kConfigWhere, fmt::format("band_order and acc_order must be in [1, 10] (got {} "
                                          "and {})",
                                          band_order, acc_order));
  }
}

// ---------------------------------------------------------------------------- window sets

std::vector<std::string> WindowSet::subjects() const {
  std::set<std::string> s;
  for (const RecordingInfo& r : recordings) s.insert(r.subject);
  return {s.begin(), s.end()};
}

std::vector<size_t> WindowSet::rows_of_subjects(const std::vector<std::string>& subjects) const {
  const std::set<std::string> wanted(subjects.begin(), subjects.end());
  std::vector<bool> keep(recordings.size());
  for (size_t r = 0; r < recordings.size(); ++r) keep[r] = wanted.count(recordings[r].subject) > 0;
  std::vector<size_t> rows;
  for (size_t i = 0; i < size(); ++i) {
    if (keep[static_cast<size_t>(recording[i])]) rows.push_back(i);
  }
  return rows;
}

// ---------------------------------------------------------------------------- signals

namespace {

std::string where_of(const Recording& rec) {
  return rec.path.empty() ? rec.name : rec.path;
}

// Replaces non-finite samples by linear interpolation between the nearest finite neighbours,
// holding the first / last finite value at the ends; no finite sample at all gives zeros.
void fill_non_finite(std::vector<float>* x) {
  std::vector<float>& v = *x;
  const size_t n = v.size();
  size_t prev = n;  // index of the last finite sample seen, n = none yet
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) continue;
    if (prev == n) {
      for (size_t j = 0; j < i; ++j) v[j] = v[i];
    } else if (i > prev + 1) {
      const double a = v[prev], b = v[i], span = static_cast<double>(i - prev);
      for (size_t j = prev + 1; j < i; ++j)
        v[j] = static_cast<float>(a + (b - a) * (j - prev) / span);
    }
    prev = i;
  }
  const float tail = prev == n ? 0.0f : v[prev];
  for (size_t j = (prev == n ? 0 : prev + 1); j < n; ++j) v[j] = tail;
}

// The PPG channel the config asks for, at the native rate (non-finite samples kept).
std::vector<float> select_ppg(const Recording& rec, const std::string& which) {
  if (which != "mean") {
    const size_t c = static_cast<size_t>(std::stoi(which));
    if (c >= rec.ppg.size()) {
      throw Error(where_of(rec), fmt::format("PPG channel {} requested but the recording has {}", c,
                                             rec.ppg.size()));
    }
    return rec.ppg[c];
  }
  std::vector<float> m(rec.num_samples(), 0.0f);
  for (const auto& ch : rec.ppg) {
    for (size_t i = 0; i < m.size(); ++i) m[i] += ch[i];
  }
  for (float& v : m) v /= static_cast<float>(rec.ppg.size());
  return m;
}

void check_shape(const Recording& rec) {
  if (!(std::isfinite(rec.fs) && rec.fs > 0)) {
    throw Error(where_of(rec), fmt::format("sampling rate must be positive (got {})", rec.fs));
  }
  if (rec.ppg.empty()) throw Error(where_of(rec), "recording has no PPG channel");
  const size_t n = rec.num_samples();
  for (const auto& ch : rec.ppg) {
    if (ch.size() != n) throw Error(where_of(rec), "PPG channels differ in length");
  }
  if (!rec.acc.empty() && rec.acc.size() != 3) {
    throw Error(where_of(rec),
                fmt::format("accelerometer must have 3 channels (got {})", rec.acc.size()));
  }
  for (const auto& ch : rec.acc) {
    if (ch.size() != n) throw Error(where_of(rec), "accelerometer and PPG differ in length");
  }
}

std::vector<float> condition(std::vector<float> raw, const Recording& rec, const Sos& sos,
                             const PreprocessConfig& cfg) {
  fill_non_finite(&raw);
  std::vector<float> x = resample(raw, rec.fs, cfg.fs, ResampleEdge::kHold);
  if (x.empty()) return x;
  if (!cfg.causal) return filtfilt(sos, x);
  SosFilter f(sos);
  f.prime(x[0]);
  return f.apply(x);
}

}  // namespace

std::vector<std::vector<float>> preprocess_signals(const Recording& rec,
                                                   const PreprocessConfig& cfg) {
  check_shape(rec);
  const Sos band = butter_bandpass(cfg.band_order, cfg.band_lo_hz, cfg.band_hi_hz, cfg.fs);
  std::vector<std::vector<float>> out;
  try {
    out.push_back(condition(select_ppg(rec, cfg.ppg_channel), rec, band, cfg));
  } catch (const Error& e) {
    if (e.where() == "resample") throw Error(where_of(rec), e.problem());
    throw;
  }
  if (cfg.inputs == "ppg") return out;
  if (rec.acc.empty()) {
    out.resize(4, std::vector<float>(out[0].size(), 0.0f));
    return out;
  }
  const Sos high = butter_highpass(cfg.acc_order, cfg.acc_highpass_hz, cfg.fs);
  for (const auto& axis : rec.acc) out.push_back(condition(axis, rec, high, cfg));
  return out;
}

// ---------------------------------------------------------------------------- windows

WindowSet make_windows(const std::vector<Recording>& recs, const PreprocessConfig& cfg) {
  cfg.validate();
  WindowSet ws;
  ws.channels = cfg.channels();
  ws.length = cfg.length();
  const size_t C = static_cast<size_t>(ws.channels), L = static_cast<size_t>(ws.length);
  size_t total = 0;
  for (const Recording& rec : recs) total += rec.windows.size();
  ws.x.reserve(total * C * L);

  for (size_t r = 0; r < recs.size(); ++r) {
    const Recording& rec = recs[r];
    ws.recordings.push_back({rec.dataset, rec.name, rec.subject});
    for (const auto& [reason, count] : rec.dropped) ws.dropped[reason] += count;
    if (rec.windows.empty()) continue;
    const std::vector<std::vector<float>> sig = preprocess_signals(rec, cfg);
    const size_t m = sig[0].size();

    // Prefix count of raw samples where any used channel is non-finite.
    const size_t n = rec.num_samples();
    std::vector<const std::vector<float>*> used;
    if (cfg.ppg_channel == "mean") {
      for (const auto& ch : rec.ppg) used.push_back(&ch);
    } else {
      used.push_back(&rec.ppg[static_cast<size_t>(std::stoi(cfg.ppg_channel))]);
    }
    if (cfg.inputs != "ppg") {
      for (const auto& ch : rec.acc) used.push_back(&ch);
    }
    std::vector<size_t> bad(n + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      bool ok = true;
      for (const auto* ch : used) ok = ok && std::isfinite((*ch)[i]);
      bad[i + 1] = bad[i] + (ok ? 0 : 1);
    }

    const size_t step_n = static_cast<size_t>(std::lround(cfg.step_s * rec.fs));
    const size_t len_n = static_cast<size_t>(std::lround(cfg.window_s * rec.fs));
    for (const WindowLabel& w : rec.windows) {
      const size_t start_n = static_cast<size_t>(w.index) * step_n;
      const size_t start = static_cast<size_t>(std::llround(start_n * cfg.fs / rec.fs));
      if (w.index < 0 || start_n + len_n > n || start + L > m) {
        ++ws.dropped[kPastEnd];
        continue;
      }
      if (bad[start_n + len_n] != bad[start_n]) {
        ++ws.dropped[kNonFinite];
        continue;
      }
      if (!std::isfinite(w.hr_bpm)) {
        ++ws.dropped[kNonFiniteLabel];
        continue;
      }
      for (size_t c = 0; c < C; ++c) {
        const size_t at = ws.x.size();
        ws.x.insert(ws.x.end(), sig[c].begin() + start, sig[c].begin() + start + L);
        standardise(ws.x.data() + at, L);
      }
      ws.hr.push_back(static_cast<float>(w.hr_bpm));
      ws.recording.push_back(static_cast<int32_t>(r));
      ws.window.push_back(w.index);
    }
  }
  return ws;
}

}  // namespace ppgkd
