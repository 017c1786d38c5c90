// A hand-built WindowSet for trainer tests: each window is a noisy sinusoid whose frequency is its
// heart rate, so a model can learn it and a constant predictor cannot. No data module code runs.
#pragma once

#include <cmath>
#include <random>
#include <string>

#include "data/preprocess.h"

namespace ppgkd::testing {

inline WindowSet sinusoid_windows(int subjects, int windows_per_subject, int channels,
                                  uint32_t seed) {
  const int L = 200;
  const double fs = 25.0;
  WindowSet ws;
  ws.channels = channels;
  ws.length = L;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> hr_dist(50.0, 170.0), phase(0.0, 2 * M_PI);
  std::normal_distribution<double> noise(0.0, 0.3);
  for (int s = 0; s < subjects; ++s) {
    ws.recordings.push_back({"synthetic", "rec" + std::to_string(s), "subj" + std::to_string(s)});
    for (int k = 0; k < windows_per_subject; ++k) {
      const double hr = hr_dist(rng), ph = phase(rng);
      ws.hr.push_back(static_cast<float>(hr));
      ws.recording.push_back(s);
      ws.window.push_back(k);
      for (int c = 0; c < channels; ++c)
        for (int i = 0; i < L; ++i) {
          // Channel 0 carries the pulse; the others are noise (like an idle accelerometer).
          double v = c == 0 ? std::sqrt(2.0) * std::sin(2 * M_PI * hr / 60.0 * i / fs + ph) : 0;
          ws.x.push_back(static_cast<float>(v + noise(rng)));
        }
    }
  }
  return ws;
}

}  // namespace ppgkd::testing
