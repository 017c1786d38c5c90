// A classical, non-learning heart-rate estimator: the spectrum of each 8 s window and a peak
// picker, with optional continuity tracking and accelerometer-aware peak rejection. It is the
// comparison point every learned model must beat; it is not tuned to any dataset.
//
// Per window (at the recording's native rate, first PPG channel):
//   1. Band-pass in the frequency domain: linear detrend, Hann, zero-padded FFT, and only local
//      maxima of the power inside [lo_bpm, hi_bpm] are candidates.
//   2. Accelerometer (use_acc, when the recording has 3 axes): if the summed acc power spectrum is
//      peaked (max / median in band >= acc_min_prominence), its peaks above acc_peak_fraction of
//      its maximum are motion frequencies, and PPG candidates within acc_exclusion_bpm of one are
//      dropped.
//   3. Tracking (track): the strongest candidate within track_radius_bpm of the previous
//      estimate, if its power is at least track_min_power_ratio of the strongest candidate's;
//      otherwise the previous estimate is held, and after reacquire_after such windows in a row
//      the strongest candidate anywhere is taken. Without tracking, or for the first window, the
//      strongest candidate anywhere.
// Causal: a window's estimate depends on that window and the estimates before it only.
#pragma once

#include <cstddef>
#include <vector>

#include "data/recording.h"

namespace ppgkd {

struct SpectralConfig {
  double lo_bpm = 40;  // search band
  double hi_bpm = 200;
  double resolution_bpm = 1.0;  // FFT bin spacing before sub-bin refinement (sets zero-padding)
  bool track = true;
  double track_radius_bpm = 12;
  double track_min_power_ratio = 0.1;  // an in-range peak needs this share of the strongest's power
  int reacquire_after = 3;
  bool use_acc = true;
  double acc_exclusion_bpm = 5;
  double acc_peak_fraction = 0.2;
  double acc_min_prominence = 20;
};

// The plain FFT peak: no tracking, no accelerometer (the "FFT peak" reference of DESIGN.md).
SpectralConfig spectral_plain_config();

// Streaming form: feed windows in order. Throws Error("spectral", ...) on an invalid config.
class SpectralTracker {
 public:
  SpectralTracker(double fs, size_t window_len, const SpectralConfig& cfg);
  // ppg: window_len samples; acc: nullptr or 3 pointers to window_len samples each. Returns BPM.
  // A window without any candidate (e.g. a flat signal) repeats the previous estimate, or gives
  // the band's midpoint when there is none yet.
  double update(const float* ppg, const float* const* acc);
  void reset();

 private:
  double fs_;
  size_t len_, nfft_, k_lo_, k_hi_;
  SpectralConfig cfg_;
  bool has_prev_ = false;
  double prev_bpm_ = 0;
  int misses_ = 0;
  std::vector<double> power_, acc_power_, axis_power_;
};

// One estimate per entry of rec.windows, in order (window k starts at native sample
// k * round(2 s * fs)). Throws Error(rec.path, ...) when the recording has no PPG, an acc with
// other than 3 axes, or a window beyond its samples.
std::vector<double> spectral_hr(const Recording& rec, const SpectralConfig& cfg = {});

}  // namespace ppgkd
