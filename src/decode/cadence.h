// Accelerometer-aware decoding (issue 11): the motion cadence of a window from its accelerometer
// channels, and the emission penalty that discounts heart-rate classes at that cadence and its
// harmonics. On the wrist, arm swings and steps modulate the PPG, and a network easily reports
// the motion frequency as the heart rate; classical trackers remove the accelerometer's spectral
// peaks from the PPG spectrum, this softer version lowers the evidence there.
//
// Cadence: the edge runtime's ppgkd_cadence_estimate (edge/include/ppgkd_cadence.h) itself, so
// host and device decide identically by construction: each acc axis minus its
// mean, tapered by (1 - u^2)^2 (u from -1 to 1 over the window), its power at the 180 class
// centres 30.5..209.5 BPM by the Goertzel recurrence (a direct DFT at 1-BPM spacing), summed over
// the axes; the cadence is the strongest class's centre, its share the power within +-6 classes
// of it over the band's power. No cadence (0) without acc channels, with no power in the band
// (flat or zero acc) or with share < min_share.
//
// Penalty: at a step with cadence f > 0 BPM, class c's emission is multiplied by
//   1 - depth * m(c),  m(c) = max over h in {1, 2} (and 1/2 with `half`) of
//                             exp(-(bpm_c - h f)^2 / (2 width^2)),  bpm_c = 30.5 + c,
// after tempering and flooring (decode/temporal.h) or on a per-window posterior (then
// renormalised). Plain C++, no libtorch.
#pragma once

#include <cstddef>
#include <vector>

namespace ppgkd {

// Defaults (documented in the CLI help; the CLI leaves the penalty off unless --acc-aware).
constexpr double kCadenceMinShare = 0.4;  // white-noise acc stays below it (tested)
constexpr double kCadenceDepth = 0.8;
constexpr double kCadenceWidthBpm = 4.0;

struct Cadence {
  double bpm = 0;    // 0: no cadence
  double share = 0;  // peak power share, 0..1 (0 when the band holds no power)
};

// window: (channels, length) row-major, channel 0 PPG, 1..3 acc x/y/z; fs_hz the window's rate
// (>= 8 Hz). channels < 4: no cadence. Throws Error("cadence", ...) on length < 2, a bad rate or
// min_share outside [0, 1], or a non-finite acc sample. The result is exactly the edge's
// (converted from float).
Cadence window_cadence(const float* window, int channels, int length, double fs_hz,
                       double min_share = kCadenceMinShare);

struct CadencePenalty {
  double depth = 0;  // in [0, 1); 0 = off
  double width_bpm = kCadenceWidthBpm;
  bool half = false;  // also penalise f / 2
  bool active() const { return depth > 0; }
};

// Throws Error("cadence penalty", ...) when depth is not in [0, 1) or width is not positive.
void check_penalty(const CadencePenalty& p);

// 1 - depth * m for a class centred at class_bpm; 1 when cadence_bpm <= 0 or depth = 0.
double cadence_factor(double class_bpm, double cadence_bpm, const CadencePenalty& p);

// In place over `states` classes (centres 30.5 + c): e[c] *= cadence_factor(...).
void apply_cadence_penalty(double* e, int states, double cadence_bpm, const CadencePenalty& p);

// The per-window variant: penalise a posterior and renormalise it (unchanged when there is no
// cadence or the penalty is off; left as penalised when it sums to 0, which needs a zero input).
void penalise_posterior(double* prob, int states, double cadence_bpm, const CadencePenalty& p);

// Cadences of N windows stored (N, channels, length) back to back.
std::vector<double> window_cadences(const float* x, size_t windows, int channels, int length,
                                    double fs_hz, double min_share = kCadenceMinShare);

}  // namespace ppgkd
