// Helpers shared by the readers in this folder: drop reasons, file-name parts, channel
// extraction and the non-finite-sample rule. Internal to readers/; nothing outside includes it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "data/dsp/class_map.h"
#include "data/readers/mat_file.h"
#include "data/recording.h"

namespace ppgkd::readers {

// ---------------------------------------------------------------------------- drop reasons
// The keys of Recording::dropped. A window is counted under the first reason that applies.
constexpr const char* kDropNoBeat = "no ECG beat";             // BAMI-1: no beat inside the window
constexpr const char* kDropMissingHr = "missing HR";           // BIDMC: an HR value is NaN/absent
constexpr const char* kDropNoLabel = "no ECG label";           // windowed: label list ends early
constexpr const char* kDropPastEnd = "label past signal end";  // windowed: one label too many
constexpr const char* kDropBadLabel = "non-finite label";      // NaN/Inf reference value
constexpr const char* kDropNonFinite = "non-finite signal";    // NaN/Inf in a window's samples

inline std::string file_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// "label count K does not match signal length N (expected M windows)"
inline std::string label_count_mismatch(size_t k, size_t n, size_t m) {
  return "label count " + std::to_string(k) + " does not match signal length " + std::to_string(n) +
         " (expected " + std::to_string(m) + " windows)";
}

// Rows [first, first + count) of a channels x samples array as float channels, minus `offset`.
inline std::vector<std::vector<float>> take_rows(const MatArray& a, size_t first, size_t count,
                                                 double offset = 0) {
  std::vector<std::vector<float>> out(count, std::vector<float>(a.cols));
  for (size_t r = 0; r < count; ++r) {
    for (size_t c = 0; c < a.cols; ++c) {
      out[r][c] = static_cast<float>(a.at(first + r, c) - offset);
    }
  }
  return out;
}

// The values of a K x 1 or 1 x K array (an empty 0 x 0 array gives none). Throws otherwise.
inline std::vector<double> as_vector(const MatArray& a, const std::string& path) {
  if (a.numel() != 0 && !a.is_vector()) {
    throw Error(path, "variable '" + a.name + "' has shape " + a.shape() + ", expected Kx1");
  }
  return a.data;
}

// ---------------------------------------------------------------------------- non-finite rule
// A NaN/Inf sample in any PPG or acc channel drops every window it touches (counted under
// kDropNonFinite). The sample itself is then replaced by linear interpolation between its finite
// neighbours (nearest value at the ends, 0 for an all-bad channel), so that filters run over the
// whole recording later do not spread NaN into the windows that were kept.

inline void repair_channel(std::vector<float>& x) {
  const size_t n = x.size();
  size_t i = 0;
  while (i < n) {
    if (std::isfinite(x[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && !std::isfinite(x[j])) ++j;  // [i, j) is a bad run
    const bool has_left = i > 0, has_right = j < n;
    for (size_t t = i; t < j; ++t) {
      if (has_left && has_right) {
        const double w = static_cast<double>(t - i + 1) / static_cast<double>(j - i + 1);
        x[t] = static_cast<float>((1 - w) * x[i - 1] + w * x[j]);
      } else {
        x[t] = has_left ? x[i - 1] : has_right ? x[j] : 0.0f;
      }
    }
    i = j;
  }
}

inline void drop_nonfinite_windows(Recording& rec) {
  const size_t n = rec.num_samples();
  std::vector<uint32_t> bad_prefix(n + 1, 0);
  bool any_bad = false;
  for (size_t i = 0; i < n; ++i) {
    bool bad = false;
    for (const auto* group : {&rec.ppg, &rec.acc}) {
      for (const auto& ch : *group) bad = bad || !std::isfinite(ch[i]);
    }
    any_bad = any_bad || bad;
    bad_prefix[i + 1] = bad_prefix[i] + (bad ? 1 : 0);
  }
  if (!any_bad) return;
  const size_t len = static_cast<size_t>(std::lround(kWindowSeconds * rec.fs));
  const size_t step = static_cast<size_t>(std::lround(kStepSeconds * rec.fs));
  std::vector<WindowLabel> kept;
  size_t dropped = 0;
  for (const WindowLabel& w : rec.windows) {
    const size_t begin = static_cast<size_t>(w.index) * step;
    const size_t end = std::min(n, begin + len);
    if (begin < end && bad_prefix[end] - bad_prefix[begin] > 0) {
      ++dropped;
    } else {
      kept.push_back(w);
    }
  }
  rec.windows = std::move(kept);
  if (dropped > 0) rec.dropped[kDropNonFinite] += dropped;
  for (auto* group : {&rec.ppg, &rec.acc}) {
    for (auto& ch : *group) repair_channel(ch);
  }
}

// Appends window k with its label. A label outside the class range (a negative or implausible
// heart rate: a corrupt label file) is an error naming the label file, not a clamped class.
inline void add_window(Recording& rec, size_t k, double hr_bpm) {
  if (!(hr_bpm >= kMinBpm && hr_bpm <= kMaxBpm)) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "window %zu: heart-rate label %g BPM is outside the class range %g-%g BPM", k,
                  hr_bpm, kMinBpm, kMaxBpm);
    throw Error(rec.label_path, buf);
  }
  WindowLabel w;
  w.index = static_cast<int>(k);
  w.t_start_s = static_cast<double>(k) * kStepSeconds;
  w.hr_bpm = hr_bpm;
  rec.windows.push_back(w);
}

}  // namespace ppgkd::readers
