// The self-describing bundle: everything a device needs besides the blob to go from raw sensor
// samples to a tracked heart rate, exactly as the host's causal (streaming) path does it:
//   resample  input rate -> model rate, rational p/q, the host's Kaiser-windowed sinc FIR (taps
//             given), held edges;
//   filter    causal Butterworth biquads (PPG band-pass, accelerometer high-pass), each started
//             in the steady state of its first sample;
//   window    L samples every `step` samples at the model rate, each channel standardised
//             (zero mean, unit population variance; a channel with std < 1e-6 becomes zeros);
//   model     the blob; class c covers [bpm_lo + c * bpm_step, ...); decode radius;
//   tracker   the online HMM filter's Laplacian transition scale, truncation, temperature, floor.
// Written into export.json ("bundle") and into model_data.{h,c} (#defines and const arrays).
// Not here: the blob (blob_writer.h), files (exporter.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dsp/filter.h"
#include "data/preprocess.h"
#include "train/model_record.h"

namespace ppgkd {

struct Bundle {
  double input_rate_hz = 0, model_rate_hz = 0;
  int resample_up = 1, resample_down = 1, resample_half = 0;  // taps = 2 * half + 1 (none: 1/1)
  std::vector<double> resample_taps;
  std::string inputs;  // "ppg" or "ppg+acc"
  int channels = 0, window = 0, step = 0;
  double window_s = 0, step_s = 0;
  std::string ppg_channel;  // which PPG column of a multi-PPG device ("0", "mean")
  Sos ppg_sos, acc_sos;     // acc_sos empty for "ppg"
  double band_lo_hz = 0, band_hi_hz = 0, acc_highpass_hz = 0;
  int band_order = 0, acc_order = 0;
  double standardise_min_std = 1e-6;
  int num_classes = 0, decode_radius = 0;
  double bpm_lo = 0, bpm_step = 0;
  double track_scale_bpm = 0, track_gamma = 1, track_floor = 1e-6;
  int track_max_delta = 0;
};

// The bundle of a model directory's preprocessing and model.json. input_rate_hz: the sensor's
// rate (0 = the model rate: no resampling); throws Error("export", ...) when that rate cannot be
// resampled to the model's rate.
Bundle make_bundle(const PreprocessConfig& cfg, const ModelRecord& record, double input_rate_hz,
                   int decode_radius);

nlohmann::json bundle_json(const Bundle& b);

// C text: `bundle_defines` goes into model_data.h (macros PREFIX_..., extern declarations; needs
// ppgkd_edge.h for ppgkd_biquad), `bundle_arrays` into model_data.c (the arrays, as float).
std::string bundle_defines(const Bundle& b, const std::string& prefix);
std::string bundle_arrays(const Bundle& b, const std::string& prefix);

}  // namespace ppgkd
