// The window cadence and the emission penalty (see cadence.h). window_cadence mirrors
// edge/src/cadence.c operation for operation in float (compiled with -ffp-contract=off, see
// CMakeLists.txt): change both together; tests/decode/test_cadence.cpp compares their bits.
#include "decode/cadence.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace ppgkd {

namespace {

constexpr int kClasses = 180;
constexpr float kMinFsHz = 8.0f;

// cos(x) for 0 <= x <= pi, exactly as cos_0_pi in edge/src/cadence.c.
float cos_0_pi(float x) {
  float sign = 1.0f;
  if (x > 1.57079633f) {
    x = 3.14159265f - x;
    sign = -1.0f;
  }
  const float x2 = x * x;
  return sign *
         (1.0f -
          x2 * (1.0f / 2 -
                x2 * (1.0f / 24 -
                      x2 * (1.0f / 720 -
                            x2 * (1.0f / 40320 -
                                  x2 * (1.0f / 3628800 - x2 * (1.0f / 479001600 -
                                                               x2 * (1.0f / 87178291200.0f))))))));
}

}  // namespace

Cadence window_cadence(const float* window, int channels, int length, double fs_hz,
                       double min_share) {
  const float fs = static_cast<float>(fs_hz), min_sh = static_cast<float>(min_share);
  if (length < 2) throw Error("cadence", fmt::format("window length {} < 2", length));
  if (!(std::isfinite(fs) && fs >= kMinFsHz))
    throw Error("cadence", fmt::format("sampling rate {} Hz is below {} Hz", fs_hz, kMinFsHz));
  if (!(min_sh >= 0.0f && min_sh <= 1.0f))
    throw Error("cadence", fmt::format("min share {} is not in [0, 1]", min_share));
  Cadence out;
  if (channels < 4) return out;
  const size_t L = static_cast<size_t>(length);
  const float* acc[3];
  float mean[3];
  for (int a = 0; a < 3; ++a) {
    float sum = 0.0f;
    acc[a] = window + (a + 1) * L;
    for (size_t n = 0; n < L; ++n) {
      if (!std::isfinite(acc[a][n]))
        throw Error("cadence", fmt::format("acc channel {} sample {} is not finite", a, n));
      sum += acc[a][n];
    }
    mean[a] = sum / static_cast<float>(length);
  }
  const float taper_step = 2.0f / static_cast<float>(length - 1);
  float power[kClasses], total = 0.0f;
  int peak = 0;
  for (int c = 0; c < kClasses; ++c) {
    const float omega = 6.28318531f * ((30.5f + static_cast<float>(c)) / (60.0f * fs));
    const float coeff = 2.0f * cos_0_pi(omega);
    float s1[3] = {0.0f, 0.0f, 0.0f}, s2[3] = {0.0f, 0.0f, 0.0f}, p = 0.0f;
    for (size_t n = 0; n < L; ++n) {
      const float u = static_cast<float>(n) * taper_step - 1.0f;
      float w = 1.0f - u * u;
      w = w * w;
      for (int a = 0; a < 3; ++a) {
        const float s0 = (w * (acc[a][n] - mean[a]) + coeff * s1[a]) - s2[a];
        s2[a] = s1[a];
        s1[a] = s0;
      }
    }
    for (int a = 0; a < 3; ++a) {
      const float q = (s1[a] * s1[a] + s2[a] * s2[a]) - coeff * s1[a] * s2[a];
      p += q > 0.0f ? q : 0.0f;
    }
    power[c] = p;
    total += p;
    if (p > power[peak]) peak = c;
  }
  if (!(total > 0.0f) || !std::isfinite(total)) return out;
  const int lo = std::max(0, peak - kCadenceLobe), hi = std::min(kClasses - 1, peak + kCadenceLobe);
  float lobe = 0.0f;
  for (int c = lo; c <= hi; ++c) lobe += power[c];
  const float share = lobe / total;
  out.share = share;
  if (share >= min_sh && share > 0.0f) out.bpm = 30.5f + static_cast<float>(peak);
  return out;
}

std::vector<double> window_cadences(const float* x, size_t windows, int channels, int length,
                                    double fs_hz, double min_share) {
  std::vector<double> out(windows, 0.0);
  const size_t stride = static_cast<size_t>(channels) * length;
  for (size_t i = 0; i < windows; ++i)
    out[i] = window_cadence(x + i * stride, channels, length, fs_hz, min_share).bpm;
  return out;
}

// ---------------------------------------------------------------------------- penalty

void check_penalty(const CadencePenalty& p) {
  if (!(p.depth >= 0 && p.depth < 1))
    throw Error("cadence penalty", fmt::format("depth must be in [0, 1) (got {})", p.depth));
  if (!(std::isfinite(p.width_bpm) && p.width_bpm > 0))
    throw Error("cadence penalty", fmt::format("width must be positive (got {})", p.width_bpm));
}

double cadence_factor(double class_bpm, double cadence_bpm, const CadencePenalty& p) {
  if (!(cadence_bpm > 0) || p.depth == 0) return 1.0;
  static const double kHarmonics[3] = {1.0, 2.0, 0.5};
  double m = 0;
  for (int h = 0; h < (p.half ? 3 : 2); ++h) {
    const double d = class_bpm - kHarmonics[h] * cadence_bpm;
    m = std::max(m, std::exp(-(d * d) / (2 * p.width_bpm * p.width_bpm)));
  }
  return 1.0 - p.depth * m;
}

void apply_cadence_penalty(double* e, int states, double cadence_bpm, const CadencePenalty& p) {
  if (!(cadence_bpm > 0) || !p.active()) return;
  for (int c = 0; c < states; ++c) e[c] *= cadence_factor(30.5 + c, cadence_bpm, p);
}

void penalise_posterior(double* prob, int states, double cadence_bpm, const CadencePenalty& p) {
  if (!(cadence_bpm > 0) || !p.active()) return;
  apply_cadence_penalty(prob, states, cadence_bpm, p);
  double z = 0;
  for (int c = 0; c < states; ++c) z += prob[c];
  if (z > 0)
    for (int c = 0; c < states; ++c) prob[c] /= z;
}

}  // namespace ppgkd
