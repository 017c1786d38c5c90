// Polyphase rational resampler (see resample.h). The filter is designed once per call in double;
// output sample i is sum_k x[k] h[i*q - k*p + half], i.e. the upsampled-and-filtered signal
// evaluated only where it is kept, with the filter centred so that there is no delay.
#include "data/dsp/resample.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <string>

#include "common/error.h"

namespace ppgkd {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kKaiserBeta = 5.0;  // scipy.signal.resample_poly's default window
constexpr int kHalfLenPerFactor = 10;

double sinc(double x) {
  return x == 0.0 ? 1.0 : std::sin(kPi * x) / (kPi * x);
}

// scipy.signal.firwin(2*half+1, cutoff, window=('kaiser', beta)) scaled to a DC gain of `gain`.
// `cutoff` is relative to Nyquist (1 = Nyquist).
std::vector<double> kaiser_lowpass(int half, double cutoff, double gain) {
  const int n = 2 * half + 1;
  std::vector<double> h(n);
  const double i0_beta = std::cyl_bessel_i(0.0, kKaiserBeta);
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double m = i - half;
    const double r = m / half;  // -1 .. 1 across the window
    const double w = std::cyl_bessel_i(0.0, kKaiserBeta * std::sqrt(std::max(0.0, 1.0 - r * r)));
    h[i] = cutoff * sinc(cutoff * m) * w / i0_beta;
    sum += h[i];
  }
  for (double& v : h) v *= gain / sum;  // unit DC gain per phase times p
  return h;
}

}  // namespace

void rational_ratio(double fs_in, double fs_out, int* p, int* q) {
  if (!(std::isfinite(fs_in) && fs_in > 0) || !(std::isfinite(fs_out) && fs_out > 0)) {
    throw Error(
        "resample",
        fmt::format("sampling rates must be positive and finite (got {} -> {} Hz)", fs_in, fs_out));
  }
  const double ratio = fs_out / fs_in;
  for (int den = 1; den <= kMaxResampleFactor; ++den) {
    const double num = std::round(ratio * den);
    if (num < 1 || num > kMaxResampleFactor) continue;
    if (std::fabs(num / den - ratio) <= 1e-9 * ratio) {
      const int g = std::gcd(static_cast<int>(num), den);
      *p = static_cast<int>(num) / g;
      *q = den / g;
      return;
    }
  }
  throw Error("resample", fmt::format("cannot resample {} Hz to {} Hz: the ratio is not p/q with "
                                      "p, q <= {}",
                                      fs_in, fs_out, kMaxResampleFactor));
}

std::vector<double> resample_filter(int p, int q) {
  if (p < 1 || q < 1 || p > kMaxResampleFactor || q > kMaxResampleFactor || (p == 1 && q == 1))
    throw Error("resample", fmt::format("no filter for factors {}/{}", p, q));
  const int max_rate = std::max(p, q);
  return kaiser_lowpass(kHalfLenPerFactor * max_rate, 1.0 / max_rate, p);
}

std::vector<float> resample_poly(const std::vector<float>& x, int p, int q, ResampleEdge edge) {
  if (p < 1 || q < 1 || p > kMaxResampleFactor || q > kMaxResampleFactor) {
    throw Error("resample",
                fmt::format("factors must be in [1, {}] (got {}/{})", kMaxResampleFactor, p, q));
  }
  const int g = std::gcd(p, q);
  p /= g;
  q /= g;
  if (p == 1 && q == 1) return x;
  const long long n = static_cast<long long>(x.size());
  const long long n_out = (n * p + q - 1) / q;  // ceil(n * p / q)
  const int half = kHalfLenPerFactor * std::max(p, q);
  const std::vector<double> h = resample_filter(p, q);

  std::vector<float> y(static_cast<size_t>(n_out));
  for (long long i = 0; i < n_out; ++i) {
    // Upsampled index m = i*q; input k contributes through tap j = m - k*p + half in [0, 2*half].
    const long long m = i * q;
    const long long k_lo = m < half ? -((half - m) / p) : (m - half + p - 1) / p;  // ceil
    const long long k_hi = (m + half) / p;
    double acc = 0;
    if (k_lo >= 0 && k_hi < n) {  // the interior: no edge handling in the inner loop
      for (long long k = k_lo; k <= k_hi; ++k)
        acc += x[static_cast<size_t>(k)] * h[m - k * p + half];
    } else {
      for (long long k = k_lo; k <= k_hi; ++k) {
        double v;
        if (k >= 0 && k < n)
          v = x[static_cast<size_t>(k)];
        else if (edge == ResampleEdge::kZero)
          continue;
        else
          v = k < 0 ? x.front() : x.back();
        acc += v * h[m - k * p + half];
      }
    }
    y[static_cast<size_t>(i)] = static_cast<float>(acc);
  }
  return y;
}

std::vector<float> resample(const std::vector<float>& x, double fs_in, double fs_out,
                            ResampleEdge edge) {
  int p = 1, q = 1;
  rational_ratio(fs_in, fs_out, &p, &q);
  return resample_poly(x, p, q, edge);
}

}  // namespace ppgkd
