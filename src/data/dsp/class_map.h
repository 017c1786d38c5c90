// The 180-class heart-rate map: class c covers [30 + c, 31 + c) BPM; rates outside 30–210 BPM are
// clamped to the end classes. Decoding takes a posterior over the classes to a BPM.
#pragma once

#include <vector>

namespace ppgkd {

constexpr int kNumClasses = 180;
constexpr double kMinBpm = 30.0;
constexpr double kMaxBpm = 210.0;

int bpm_to_class(double bpm);         // clamps to [0, kNumClasses - 1]
double class_center_bpm(int c);       // 30.5 + c

// Posterior-weighted mean of bin centres within +-radius bins of the argmax (the default
// decoding rule, radius 10). `prob` has kNumClasses entries summing to ~1; returns BPM and sets
// *confidence to the probability mass inside the radius.
double decode_bpm(const float* prob, int radius, double* confidence);

}  // namespace ppgkd
