// Butterworth design and SOS filtering (see filter.h). Design happens in double with complex
// poles: analog low-pass prototype -> band-pass / high-pass transform -> bilinear transform with
// pre-warped edges. The overall gain is set by evaluating the digital response where the analog
// filter's gain is exactly 1 (the pre-warped centre for band-pass, Nyquist for high-pass), which
// is equivalent to carrying the analog gain through the transforms and simpler to verify.
#include "data/dsp/filter.h"

#include <fmt/format.h>

#include <cmath>
#include <complex>
#include <string>
#include <utility>

#include "common/error.h"

namespace ppgkd {

namespace {

using cd = std::complex<double>;
constexpr double kPi = 3.14159265358979323846;

void check_design(int order, double f, double fs, const char* what) {
  if (order < 1 || order > 10) {
    throw Error("butterworth", fmt::format("order must be in [1, 10] (got {})", order));
  }
  if (!(fs > 0) || !std::isfinite(fs)) {
    throw Error("butterworth", fmt::format("sampling rate must be positive (got {} Hz)", fs));
  }
  if (!(f > 0 && f < fs / 2)) {
    throw Error("butterworth",
                fmt::format("{} {} Hz is not inside (0, fs/2) = (0, {}) Hz", what, f, fs / 2));
  }
}

// Poles of the order-N analog Butterworth low-pass prototype (cut-off 1 rad/s), left half plane.
std::vector<cd> prototype_poles(int order) {
  std::vector<cd> p;
  for (int k = 0; k < order; ++k) {
    const double theta = kPi * (2.0 * k + order + 1) / (2.0 * order);
    p.push_back(std::polar(1.0, theta));
  }
  return p;
}

double prewarp(double f_hz, double fs) {
  return 2 * fs * std::tan(kPi * f_hz / fs);
}

cd bilinear(cd s, double fs) {
  return (2 * fs + s) / (2 * fs - s);
}

// Groups z-plane poles into denominators: a complex pole with its conjugate, real poles two by
// two (a last lone real pole gives a first-order section). Numerators are filled in by the caller.
Sos sections_from_poles(const std::vector<cd>& poles) {
  Sos sos;
  std::vector<double> reals;
  for (const cd& p : poles) {
    if (std::fabs(p.imag()) < 1e-12 * std::max(1.0, std::abs(p))) {
      reals.push_back(p.real());
    } else if (p.imag() > 0) {  // its conjugate is also in the list; take the pair once
      sos.push_back({0, 0, 0, -2 * p.real(), std::norm(p)});
    }
  }
  for (size_t i = 0; i + 1 < reals.size(); i += 2) {
    sos.push_back({0, 0, 0, -(reals[i] + reals[i + 1]), reals[i] * reals[i + 1]});
  }
  if (reals.size() % 2 == 1) sos.push_back({0, 0, 0, -reals.back(), 0});
  return sos;
}

// Scales the first section so that |H| = 1 at f_hz.
void normalise_gain(Sos* sos, double f_hz, double fs) {
  const double g = sos_gain(*sos, f_hz, fs);
  (*sos)[0].b0 /= g;
  (*sos)[0].b1 /= g;
  (*sos)[0].b2 /= g;
}

}  // namespace

Sos butter_bandpass(int order, double lo_hz, double hi_hz, double fs) {
  check_design(order, lo_hz, fs, "low edge");
  check_design(order, hi_hz, fs, "high edge");
  if (!(lo_hz < hi_hz)) {
    throw Error("butterworth",
                fmt::format("low edge {} Hz must be below high edge {} Hz", lo_hz, hi_hz));
  }
  const double w1 = prewarp(lo_hz, fs), w2 = prewarp(hi_hz, fs);
  const double bw = w2 - w1, w0 = std::sqrt(w1 * w2);
  // s -> (s^2 + w0^2) / (bw s): each prototype pole p gives the roots of s^2 - p bw s + w0^2.
  std::vector<cd> z_poles;
  for (const cd& p : prototype_poles(order)) {
    const cd half = p * bw / 2.0;
    const cd disc = std::sqrt(half * half - w0 * w0);
    z_poles.push_back(bilinear(half + disc, fs));
    z_poles.push_back(bilinear(half - disc, fs));
  }
  Sos sos = sections_from_poles(z_poles);
  // N zeros at s = 0 (z = 1) and N at infinity (z = -1): one of each per section, 1 - z^-2.
  for (Biquad& s : sos) {
    s.b0 = 1;
    s.b1 = 0;
    s.b2 = -1;
  }
  // The analog centre w0 has gain 1; the bilinear transform maps it to this frequency.
  normalise_gain(&sos, fs / kPi * std::atan(w0 / (2 * fs)), fs);
  return sos;
}

Sos butter_highpass(int order, double cut_hz, double fs) {
  check_design(order, cut_hz, fs, "cut-off");
  const double wc = prewarp(cut_hz, fs);
  std::vector<cd> z_poles;
  for (const cd& p : prototype_poles(order)) z_poles.push_back(bilinear(wc / p, fs));  // s -> wc/s
  Sos sos = sections_from_poles(z_poles);
  // N zeros at s = 0, i.e. z = 1: (1 - z^-1)^2 per second-order section, (1 - z^-1) for a first.
  for (Biquad& s : sos) {
    const bool first_order = s.a2 == 0;
    s.b0 = 1;
    s.b1 = first_order ? -1 : -2;
    s.b2 = first_order ? 0 : 1;
  }
  normalise_gain(&sos, fs / 2, fs);
  return sos;
}

double sos_gain(const Sos& sos, double f_hz, double fs) {
  const cd z1 = std::polar(1.0, -2 * kPi * f_hz / fs);  // e^{-jw}
  const cd z2 = z1 * z1;
  cd h = 1;
  for (const Biquad& s : sos) h *= (s.b0 + s.b1 * z1 + s.b2 * z2) / (1.0 + s.a1 * z1 + s.a2 * z2);
  return std::abs(h);
}

// ---------------------------------------------------------------------------- causal filtering

SosFilter::SosFilter(Sos sos) : sos_(std::move(sos)), z_(2 * sos_.size(), 0.0) {}

void SosFilter::reset() {
  std::fill(z_.begin(), z_.end(), 0.0);
}

void SosFilter::prime(float x0) {
  // Transposed direct form II in steady state under a constant input u with output y = H(1) u:
  // z2 = b2 u - a2 y and z1 = b1 u - a1 y + z2. Each section's output is the next one's input.
  double u = x0;
  for (size_t i = 0; i < sos_.size(); ++i) {
    const Biquad& s = sos_[i];
    const double y = u * (s.b0 + s.b1 + s.b2) / (1 + s.a1 + s.a2);
    z_[2 * i + 1] = s.b2 * u - s.a2 * y;
    z_[2 * i] = s.b1 * u - s.a1 * y + z_[2 * i + 1];
    u = y;
  }
}

float SosFilter::step(float x) {
  double v = x;
  for (size_t i = 0; i < sos_.size(); ++i) {
    const Biquad& s = sos_[i];
    double* z = &z_[2 * i];
    const double y = s.b0 * v + z[0];
    z[0] = s.b1 * v - s.a1 * y + z[1];
    z[1] = s.b2 * v - s.a2 * y;
    v = y;
  }
  return static_cast<float>(v);
}

std::vector<float> SosFilter::apply(const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = step(x[i]);
  return y;
}

// ---------------------------------------------------------------------------- zero phase

std::vector<float> filtfilt(const Sos& sos, const std::vector<float>& x) {
  const size_t n = x.size();
  if (n == 0) return {};
  size_t pad = 3 * (2 * sos.size() + 1);
  if (pad > n - 1) pad = n - 1;
  // Odd extension about the end points: 2 x[0] - x[pad..1] and 2 x[n-1] - x[n-2..n-1-pad].
  std::vector<float> ext;
  ext.reserve(n + 2 * pad);
  for (size_t i = pad; i >= 1; --i) ext.push_back(2 * x[0] - x[i]);
  ext.insert(ext.end(), x.begin(), x.end());
  for (size_t i = 1; i <= pad; ++i) ext.push_back(2 * x[n - 1] - x[n - 1 - i]);

  SosFilter f(sos);
  f.prime(ext.front());
  std::vector<float> fwd = f.apply(ext);
  std::vector<float> rev(fwd.rbegin(), fwd.rend());
  f.prime(rev.front());
  std::vector<float> bwd = f.apply(rev);
  // bwd is time-reversed; sample pad + i of the original order is bwd[ext.size() - 1 - pad - i].
  std::vector<float> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = bwd[ext.size() - 1 - pad - i];
  return y;
}

}  // namespace ppgkd
