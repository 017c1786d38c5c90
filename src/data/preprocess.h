// From Recordings to model inputs: channel selection, resampling to 25 Hz, band-pass (PPG) and
// high-pass (acc) filtering, 8 s / 2 s windows and per-window standardisation.
//
// Shapes: N windows, C channels (1 for "ppg", 4 for "ppg+acc": PPG, acc x, y, z), L = 200 samples.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/recording.h"

namespace ppgkd {

struct PreprocessConfig {
  double fs = 25.0;             // target rate, Hz
  double window_s = kWindowSeconds;
  double step_s = kStepSeconds;
  std::string inputs = "ppg+acc";  // "ppg" or "ppg+acc"
  std::string ppg_channel = "0";   // "mean" or a 0-based channel index
  double band_lo_hz = 0.5, band_hi_hz = 4.0;
  int band_order = 2;           // Butterworth order per edge
  double acc_highpass_hz = 0.3;
  bool causal = false;          // true: causal filters (streaming); false: zero-phase

  int channels() const { return inputs == "ppg" ? 1 : 4; }
  int length() const { return static_cast<int>(window_s * fs + 0.5); }
  nlohmann::json to_json() const;
  static PreprocessConfig from_json(const nlohmann::json& j);  // throws Error on bad values
  void validate() const;                                       // throws Error on bad values
};

// The windows of many recordings, ready for a model. x is row-major (N, C, L).
struct WindowSet {
  int channels = 0, length = 0;
  std::vector<float> x;
  std::vector<float> hr;          // (N) reference BPM
  std::vector<int32_t> recording; // (N) index into `recordings`
  std::vector<int32_t> window;    // (N) window index k in its recording
  struct RecordingInfo {
    std::string dataset, name, subject;
  };
  std::vector<RecordingInfo> recordings;
  std::map<std::string, size_t> dropped;  // reason -> windows dropped during preprocessing

  size_t size() const { return hr.size(); }
  const float* window_ptr(size_t i) const { return x.data() + i * channels * length; }
  std::vector<std::string> subjects() const;  // sorted, unique
  // The rows whose recording belongs to one of `subjects`.
  std::vector<size_t> rows_of_subjects(const std::vector<std::string>& subjects) const;
};

// Preprocesses one recording's signals into continuous 25 Hz channels (C x M), filtered.
std::vector<std::vector<float>> preprocess_signals(const Recording& rec, const PreprocessConfig& cfg);

// All labelled windows of the recordings. Windows touching non-finite raw samples are dropped and
// counted under "non-finite signal".
WindowSet make_windows(const std::vector<Recording>& recs, const PreprocessConfig& cfg);

}  // namespace ppgkd
