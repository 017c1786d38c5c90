// From Recordings to model inputs: channel selection, resampling to 25 Hz, band-pass (PPG) and
// high-pass (acc) filtering, 8 s / 2 s windows and per-window standardisation.
//
// Shapes: N windows, C channels (1 for "ppg", 4 for "ppg+acc": PPG, acc x, y, z), L = 200 samples
// (window_s * fs). M is a recording's length at fs.
//
// Conventions (documented defaults):
// - Non-finite raw samples are filled by linear interpolation between finite neighbours (held
//   flat at the ends; an all-NaN channel becomes zeros) BEFORE resampling and filtering, so one
//   NaN cannot spread through the IIR filters; every window touching one is still dropped and
//   counted under "non-finite signal".
// - "mean" averages the PPG channels sample by sample at the native rate.
// - A recording without accelerometer (BIDMC) under "ppg+acc" gets three all-zero acc channels,
//   so datasets can be mixed; they stay zero after standardisation (a flat channel -> zeros).
// - Causal filters start in the steady state of the first sample (no step transient from the
//   PPG's DC offset); a streaming predictor must do the same to match.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/recording.h"

namespace ppgkd {

struct PreprocessConfig {
  double fs = 25.0;  // target rate, Hz
  // The reference labels are defined on the 8 s / 2 s grid, so validate() insists on it; the
  // values are kept here so a cached or recorded config says what it used.
  double window_s = kWindowSeconds;
  double step_s = kStepSeconds;
  std::string inputs = "ppg+acc";  // "ppg" or "ppg+acc"
  std::string ppg_channel = "0";   // "mean" or a 0-based channel index
  double band_lo_hz = 0.5, band_hi_hz = 4.0;
  int band_order = 2;  // Butterworth order per edge
  double acc_highpass_hz = 0.3;
  int acc_order = 2;    // Butterworth high-pass order
  bool causal = false;  // true: causal filters (streaming); false: zero-phase

  int channels() const { return inputs == "ppg" ? 1 : 4; }
  int length() const { return static_cast<int>(window_s * fs + 0.5); }
  // Every field; from_json starts from the defaults, takes the keys present and rejects unknown
  // keys and wrong types. Both throw Error("preprocess config", ...) on bad values.
  nlohmann::json to_json() const;
  static PreprocessConfig from_json(const nlohmann::json& j);
  void validate() const;
};

// The windows of many recordings, ready for a model. x is row-major (N, C, L).
struct WindowSet {
  int channels = 0, length = 0;
  std::vector<float> x;            // (N, C, L)
  std::vector<float> hr;           // (N) reference BPM
  std::vector<int32_t> recording;  // (N) index into `recordings`
  std::vector<int32_t> window;     // (N) window index k in its recording
  struct RecordingInfo {
    std::string dataset, name, subject;
  };
  std::vector<RecordingInfo> recordings;
  // Reason -> windows dropped, by the readers (Recording::dropped, e.g. "missing HR") and during
  // preprocessing ("non-finite signal", "non-finite label", "window past end of signal").
  std::map<std::string, size_t> dropped;

  size_t size() const { return hr.size(); }
  const float* window_ptr(size_t i) const { return x.data() + i * channels * length; }
  std::vector<std::string> subjects() const;  // sorted, unique
  // The rows whose recording belongs to one of `subjects`, in row order.
  std::vector<size_t> rows_of_subjects(const std::vector<std::string>& subjects) const;
};

// One recording's signals as continuous channels at cfg.fs, filtered: (C, M) with
// M = ceil(n * fs / rec.fs). Throws Error naming the recording's file when its shape is bad, the
// PPG channel does not exist or its rate cannot be resampled to cfg.fs.
std::vector<std::vector<float>> preprocess_signals(const Recording& rec,
                                                   const PreprocessConfig& cfg);

// All labelled windows of the recordings, in recording then label order. Window k starts at
// native sample k * round(step_s * rec.fs), i.e. at sample round(that * fs / rec.fs) of the
// resampled signal (exact for 125 and 50 Hz sources at 25 Hz), and takes L samples per channel,
// each channel standardised on its own.
WindowSet make_windows(const std::vector<Recording>& recs, const PreprocessConfig& cfg);

}  // namespace ppgkd
