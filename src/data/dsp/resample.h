// Rational polyphase resampling with a Kaiser-windowed sinc anti-aliasing filter, the equivalent of
// scipy.signal.resample_poly(x, p, q) with its defaults (window ('kaiser', 5.0), half length
// 10 * max(p, q) input-rate taps, zero padding at the ends): upsample by p, low-pass at
// min(1/p, 1/q) of Nyquist, keep every q-th sample. Computed polyphase: each output sample costs
// about 20 * max(p, q) / p multiply-adds, never the upsampled signal.
//
// Output length is ceil(n * p / q); output sample i sits at input time i * q / p (no delay).
// Outside the signal the input is taken as zero (scipy's default; a signal with an offset then
// ramps up over the first and last ~10 * max(p, q) / p input samples) or, with kHold, as the
// first / last sample (a constant stays constant up to the ends; what preprocessing uses).
#pragma once

#include <vector>

namespace ppgkd {

enum class ResampleEdge { kZero, kHold };

// Resamples x from rate fs_in to fs_out. Both rates must be positive and finite and their ratio
// p/q rational with p, q <= kMaxResampleFactor after reduction (throws Error otherwise).
std::vector<float> resample(const std::vector<float>& x, double fs_in, double fs_out,
                            ResampleEdge edge = ResampleEdge::kZero);

// The same with the ratio given as integers (reduced internally); p, q in [1, kMaxResampleFactor].
std::vector<float> resample_poly(const std::vector<float>& x, int p, int q,
                                 ResampleEdge edge = ResampleEdge::kZero);

// Reduced integers p/q with fs_out/fs_in = p/q (relative error < 1e-9); throws Error when none
// with p, q <= kMaxResampleFactor exists.
void rational_ratio(double fs_in, double fs_out, int* p, int* q);

constexpr int kMaxResampleFactor = 1000;

// The anti-aliasing filter resample_poly(x, p, q) uses, for p/q already reduced (p, q >= 1, not
// both 1): 2 * half + 1 taps, half = 10 * max(p, q); output sample i of the resampler is
// sum_k x[k] h[i*q - k*p + half] (inputs outside the signal per ResampleEdge). For exporters that
// must hand the exact filter to a device.
std::vector<double> resample_filter(int p, int q);

}  // namespace ppgkd
