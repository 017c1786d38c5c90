// The 180-class heart-rate map: class c covers [30 + c, 31 + c) BPM; rates outside 30–210 BPM are
// clamped to the end classes. Decoding takes a posterior over the classes to a BPM.
#pragma once

namespace ppgkd {

constexpr int kNumClasses = 180;
constexpr double kMinBpm = 30.0;
constexpr double kMaxBpm = 210.0;
constexpr int kDecodeRadius = 10;  // default decoding radius, bins

// Clamps to [0, kNumClasses - 1]; throws Error for a non-finite rate.
int bpm_to_class(double bpm);
double class_center_bpm(int c);  // 30.5 + c

// Posterior-weighted mean of bin centres within +-radius bins of the argmax (the first maximum;
// the window is cut at the ends of the class range). `prob` has kNumClasses entries summing to ~1;
// returns BPM and sets *confidence (if not null) to the probability mass inside the radius.
// When that mass is not positive the argmax's centre is returned with confidence 0.
double decode_bpm(const float* prob, int radius, double* confidence);

}  // namespace ppgkd
