// The power spectrum of one window for peak picking: linear detrend, Hann window, zero-padding to
// a power of two, real FFT (GSL radix-2). Plus the list of its local maxima with sub-bin
// frequencies. Not a PSD estimator: no averaging, no scaling to physical units.
#pragma once

#include <cstddef>
#include <vector>

namespace ppgkd {

// The FFT length for n samples at rate fs and a wanted bin spacing: the smallest power of two
// >= n and >= fs * 60 / resolution_bpm.
size_t periodogram_nfft(size_t n, double fs, double resolution_bpm);

// x: n samples -> power: nfft / 2 + 1 bins; bin k is at k * fs / nfft Hz. nfft must be a power of
// two >= n (checked by the caller through periodogram_nfft). A straight line gives all zeros.
void periodogram(const float* x, size_t n, size_t nfft, std::vector<double>* power);

struct SpectralPeak {
  double bin;    // refined position in bins (parabola through the log power of 3 bins)
  double power;  // power of the peak's bin
};

// Strict-left local maxima (p[k-1] < p[k] >= p[k+1]) with k in [k_lo, k_hi], 1 <= k_lo,
// k_hi < power.size() - 1, in increasing k. A flat spectrum has none.
std::vector<SpectralPeak> spectral_peaks(const std::vector<double>& power, size_t k_lo,
                                         size_t k_hi);

}  // namespace ppgkd
