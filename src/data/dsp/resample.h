// Rational polyphase resampling with a windowed-sinc anti-aliasing filter, the equivalent of
// scipy.signal.resample_poly: upsample by p, low-pass at min(1/p, 1/q) of Nyquist, keep every
// q-th sample. Output length is ceil(n * p / q); output sample i sits at input time i * q / p.
#pragma once

#include <vector>

namespace ppgkd {

// Resamples x from rate fs_in to fs_out. Both rates must be positive and their ratio rational
// with a denominator of at most 1000 after reduction (checked; throws Error otherwise).
std::vector<float> resample(const std::vector<float>& x, double fs_in, double fs_out);

// Reduced integers p/q with fs_out/fs_in = p/q.
void rational_ratio(double fs_in, double fs_out, int* p, int* q);

}  // namespace ppgkd
