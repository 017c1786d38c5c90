// A synthetic PPG dataset shaped like the real ones: subjects, recordings, 3-axis accelerometer at
// a native rate, and an exact heart rate per 8 s / 2 s window. Deterministic from a seed. It is a
// test bed and a demo source, not a physiological model.
//
// The signal model, per recording:
//   - Activity: rest for the first 6–15% of the recording, then 1–3 bouts of movement covering
//     50–70% of it, each followed by rest, with random lengths.
//   - HR trajectory: pulled towards a target with a first-order lag (15–35 s up, 25–60 s down, at
//     most 2 BPM/s): the subject's resting HR at rest; during a bout, two targets drawn anywhere
//     between 25% and 100% of the way from resting to maximal HR, switching at a random time.
//     Plus slow HR variability and respiratory sinus arrhythmia; clamped to 50–190 BPM.
//   - Pulse: a two-Gaussian beat (systolic peak + dicrotic wave) evaluated at the phase integrated
//     from the instantaneous HR, so every beat's period follows the trajectory.
//   - Respiration at 0.2–0.4 Hz (rising with effort) modulates pulse amplitude and baseline;
//     slow baseline wander.
//   - Motion during bouts: a step cadence of 1.5–3 Hz that changes once at a random time, and its
//     harmonic, seen by the accelerometer and, scaled by motion_scale, added to the PPG with an
//     amplitude of 0.7–3x the pulse's fundamental (so it often dominates the PPG spectrum).
//     Cadence, movement amplitude and timing are drawn independently of the HR targets (only kept
//     more than 15 BPM away from them, most of the time), so the accelerometer says when the wearer
//     moves and at what cadence, but not the heart rate: a model trained on some subjects must
//     read the pulse from the PPG to generalise to others, while the plain spectral peak is
//     usually the artefact's.
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
  // Many subjects with one recording each: subject-wise folds then train on enough different
  // subjects that a model cannot get by on memorised per-subject relations.
  int subjects = 24;
  int recordings_per_subject = 1;
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
// overlapping a bout by more than about half a second. Works on any recording with a
// 3-axis accelerometer in g; throws Error(rec.path, ...) without one or if the window does not fit.
constexpr double kMotionAccRmsG = 0.05;
bool synthetic_window_in_motion(const Recording& rec, double t_start_s);

}  // namespace ppgkd
