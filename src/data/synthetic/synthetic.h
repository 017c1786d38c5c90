// A synthetic PPG dataset shaped like the real ones: subjects, recordings, 3-axis accelerometer at
// a native rate, and an exact ECG-truth heart rate per window. Deterministic from a seed.
//
// The signal model: a two-Gaussian pulse (systolic peak + dicrotic wave) whose period follows an HR
// trajectory with rest and exercise ramps (50–190 BPM); respiratory amplitude and baseline
// modulation; baseline wander; during exercise, motion artefacts at the step frequency (and its
// harmonic) that the simulated accelerometer also carries; white and 1/f-ish noise.
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
  double fs = 125;  // native rate; exercises the 125 -> 25 Hz path like SPC 2015
  double motion_scale = 1.0;  // artefact amplitude relative to the pulse (0 = clean)
};

std::vector<Recording> make_synthetic(const SyntheticConfig& cfg);

// Per-sample motion intensity of a recording made by make_synthetic is not stored; windows during
// exercise are those whose label's trajectory phase is "exercise". For tests and benches:
// true when the window [t, t + 8 s) of the recording overlaps an exercise phase.
bool synthetic_window_in_motion(const Recording& rec, double t_start_s);

}  // namespace ppgkd
