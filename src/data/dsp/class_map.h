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

// A network's posterior is smoothed before it is decoded: its argmax then picks the mode with the
// most mass near it rather than the tallest bin. The width was chosen on nested inner subjects
// (docs/RESULTS.md, "Smoothing the posterior before the per-window decode"); the edge runtime uses
// the same (PPGKD_DECODE_SMOOTH_SIGMA in edge/include/ppgkd_edge_ops.h).
constexpr double kPosteriorSmoothBpm = 3.0;

// prob (kNumClasses entries) convolved in place with a Gaussian of `sigma` classes: taps
// exp(-d^2 / (2 sigma^2)) for |d| <= ceil(3 sigma), scaled to sum to 1; mass the kernel carries
// beyond the class range is dropped. sigma = 0 leaves prob unchanged. Throws Error for a sigma
// that is negative, not finite or above 30.
void smooth_posterior(float* prob, double sigma);

// The per-window decode of a network's posterior (every per-window figure ppgkd reports):
// smooth_posterior with `sigma`, then decode_bpm. The temporal decoders' marginals are decoded
// with decode_bpm alone.
double decode_posterior_bpm(const float* prob, int radius, double* confidence,
                            double sigma = kPosteriorSmoothBpm);

}  // namespace ppgkd
