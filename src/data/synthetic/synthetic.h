// A synthetic PPG dataset shaped like the real ones: subjects, recordings, 3-axis accelerometer at
// a native rate, and an exact heart rate per 8 s / 2 s window. Deterministic from a seed. It is a
// test bed and a demo source, not a physiological model.
//
// The signal model, per recording:
//   - HR trajectory: rest -> ramp up -> exercise plateau (with cardiac drift) -> ramp down ->
//     recovery, from per-subject resting and maximal HR, plus slow HR variability and respiratory
//     sinus arrhythmia; clamped to 50–190 BPM.
//   - Pulse: a two-Gaussian beat (systolic peak + dicrotic wave) evaluated at the phase integrated
//     from the instantaneous HR, so every beat's period follows the trajectory.
//   - Respiration at 0.2–0.4 Hz (rising with effort) modulates pulse amplitude and baseline;
//     slow baseline wander.
//   - Motion during exercise (ramp up, plateau, ramp down): a step cadence of 1.5–3 Hz and its
//     harmonic, seen by the accelerometer and, scaled by motion_scale, added to the PPG with an
//     amplitude of 0.7–3x the pulse's fundamental (so it often dominates the PPG spectrum). The
//     exercise cadence is drawn away from the plateau HR most of the time.
//   - White and red (1/f-ish) noise on the PPG, white noise on the accelerometer.
//
// Labels: window k covers native samples [k*step, k*step + len) and its label is the exact mean
// of the per-sample HR trajectory over those samples (the same trajectory the pulse phase is
// integrated from), so the number of beats in a window is label / 60 * 8 s.
#pragma once

#include <cstdint>
#include <vector>

#include "data/recording.h"

namespace ppgkd {

struct SyntheticConfig {
  uint64_t seed = 42;
  int subjects = 8;
  int recordings_per_subject = 2;
  double duration_s = 300;
  double fs = 125;            // native rate; exercises the 125 -> 25 Hz path like SPC 2015
  double motion_scale = 1.0;  // PPG motion artefact amplitude multiplier (0 = clean PPG)
  double noise_scale = 1.0;   // PPG and accelerometer noise multiplier (0 = noise-free)
};
// motion_scale and noise_scale only scale their components: the random draws do not depend on
// them, so two configs differing only there give the same pulses, trajectories and movements
// (the accelerometer records the movement whatever motion_scale is).

// subjects x recordings_per_subject recordings, dataset "synthetic", subject ids
// "synthetic/s01", ..., names "s01_r1", ...; 1 PPG channel and 3 acc channels (in g) at cfg.fs;
// every window that fits is labelled. Throws Error("synthetic", ...) on an invalid config.
std::vector<Recording> make_synthetic(const SyntheticConfig& cfg);

// Whether the 8 s window starting at t_start_s is "in motion", decided from the accelerometer
// alone: the RMS of its three axes about their window means exceeds kMotionAccRmsG. In a
// synthetic recording (rest noise ~0.01 g RMS, movement >= 0.15 g RMS) that is every window
// overlapping the exercise phase by more than about half a second. Works on any recording with a
// 3-axis accelerometer in g; throws Error(rec.path, ...) without one or if the window does not fit.
constexpr double kMotionAccRmsG = 0.05;
bool synthetic_window_in_motion(const Recording& rec, double t_start_s);

}  // namespace ppgkd
