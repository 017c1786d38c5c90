// Periodogram and peak listing (see periodogram.h).
#include "baseline/periodogram.h"

#include <gsl/gsl_fft_real.h>

#include <algorithm>
#include <cmath>

namespace ppgkd {

size_t periodogram_nfft(size_t n, double fs, double resolution_bpm) {
  const double wanted = std::max(static_cast<double>(n), std::ceil(fs * 60 / resolution_bpm));
  size_t nfft = 1;
  while (static_cast<double>(nfft) < wanted) nfft *= 2;
  return nfft;
}

void periodogram(const float* x, size_t n, size_t nfft, std::vector<double>* power) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  std::vector<double> buf(nfft, 0.0);
  // Least-squares line a + b * (i - c) with c the centre, so the two sums decouple.
  const double c = (n - 1) / 2.0;
  double sx = 0, sxt = 0, stt = 0;
  for (size_t i = 0; i < n; ++i) {
    sx += x[i];
    sxt += x[i] * (i - c);
    stt += (i - c) * (i - c);
  }
  const double a = sx / n, b = stt > 0 ? sxt / stt : 0;
  for (size_t i = 0; i < n; ++i) {
    const double hann = n > 1 ? 0.5 - 0.5 * std::cos(kTwoPi * i / (n - 1)) : 1;
    buf[i] = (x[i] - a - b * (i - c)) * hann;
  }
  gsl_fft_real_radix2_transform(buf.data(), 1, nfft);
  // Radix-2 half-complex layout: buf[k] = Re X_k for k <= nfft/2, buf[nfft - k] = Im X_k.
  power->assign(nfft / 2 + 1, 0.0);
  (*power)[0] = buf[0] * buf[0];
  for (size_t k = 1; k < nfft / 2; ++k)
    (*power)[k] = buf[k] * buf[k] + buf[nfft - k] * buf[nfft - k];
  (*power)[nfft / 2] = buf[nfft / 2] * buf[nfft / 2];
}

std::vector<SpectralPeak> spectral_peaks(const std::vector<double>& p, size_t k_lo, size_t k_hi) {
  std::vector<SpectralPeak> peaks;
  for (size_t k = std::max<size_t>(k_lo, 1); k <= k_hi && k + 1 < p.size(); ++k) {
    if (!(p[k - 1] < p[k] && p[k] >= p[k + 1])) continue;
    double delta = 0;
    // A Hann main lobe is close to a Gaussian, whose log is a parabola: the vertex of the parabola
    // through the log powers is an almost unbiased sub-bin position. Skipped if a side is zero.
    if (p[k - 1] > 0 && p[k + 1] > 0) {
      const double l = std::log(p[k - 1]), m = std::log(p[k]), r = std::log(p[k + 1]);
      const double den = l - 2 * m + r;
      if (den < 0) delta = std::clamp(0.5 * (l - r) / den, -0.5, 0.5);
    }
    peaks.push_back({k + delta, p[k]});
  }
  return peaks;
}

}  // namespace ppgkd
