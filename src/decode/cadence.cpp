// The window cadence and the emission penalty (see cadence.h). window_cadence calls the edge
// runtime's ppgkd_cadence_estimate, so there is one implementation of the estimate.
#include "decode/cadence.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "ppgkd_cadence.h"

namespace ppgkd {

namespace {
constexpr float kMinFsHz = PPGKD_CADENCE_MIN_FS_HZ;
}  // namespace

// The edge runtime's estimate itself (edge/src/cadence.c), so host and device decide identically
// by construction; this wrapper turns its status codes into errors that say what is wrong.
Cadence window_cadence(const float* window, int channels, int length, double fs_hz,
                       double min_share) {
  const float fs = static_cast<float>(fs_hz), min_sh = static_cast<float>(min_share);
  if (length < 2) throw Error("cadence", fmt::format("window length {} < 2", length));
  if (!(std::isfinite(fs) && fs >= kMinFsHz))
    throw Error("cadence", fmt::format("sampling rate {} Hz is below {} Hz", fs_hz, kMinFsHz));
  if (!(min_sh >= 0.0f && min_sh <= 1.0f))
    throw Error("cadence", fmt::format("min share {} is not in [0, 1]", min_share));
  if (channels < 0) throw Error("cadence", fmt::format("{} channels", channels));
  float bpm = 0.0f, share = 0.0f;
  const ppgkd_status st =
      ppgkd_cadence_estimate(window, static_cast<uint32_t>(channels), static_cast<uint32_t>(length),
                             fs, min_sh, &bpm, &share);
  if (st == PPGKD_ERR_INPUT)
    throw Error("cadence", "an accelerometer sample of the window is not finite");
  if (st != PPGKD_OK) throw Error("cadence", fmt::format("cadence estimate failed ({})", int(st)));
  return {bpm, share};
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
