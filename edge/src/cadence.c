/* cadence.c — the accelerometer cadence of a window and the tracker's emission penalty factor
 * (see ppgkd_cadence.h). Plain +, -, *, / in a fixed order; exp from nolibm_math.c; the cosine
 * of the Goertzel coefficients from a Taylor series below. src/decode/cadence.cpp mirrors this
 * file operation for operation: change both together (tests/decode/test_cadence.cpp compares
 * their bits). */
#include "nolibm_math.h"
#include "ppgkd_cadence.h"

#define K PPGKD_CADENCE_CLASSES

/* cos(x) for 0 <= x <= pi: folded to [0, pi/2] by cos(x) = -cos(pi - x), then the Taylor series
 * to x^14 (truncation error < 1e-10 there). */
static float cos_0_pi(float x) {
  float sign = 1.0f, x2;
  if (x > 1.57079633f) {
    x = 3.14159265f - x;
    sign = -1.0f;
  }
  x2 = x * x;
  return sign *
         (1.0f -
          x2 * (1.0f / 2 -
                x2 * (1.0f / 24 -
                      x2 * (1.0f / 720 -
                            x2 * (1.0f / 40320 -
                                  x2 * (1.0f / 3628800 - x2 * (1.0f / 479001600 -
                                                               x2 * (1.0f / 87178291200.0f))))))));
}

static int is_finite(float x) {
  return x - x == 0.0f;
}

ppgkd_status ppgkd_cadence_estimate(const float* window, uint32_t channels, uint32_t length,
                                    float fs_hz, float min_share, float* cadence_bpm,
                                    float* share) {
  float power[K], mean[3], total = 0.0f, lobe = 0.0f, taper_step;
  const float* acc[3];
  uint32_t a, c, n, peak = 0, lo, hi;
  if (!window || !cadence_bpm || !share) return PPGKD_ERR_ARG;
  if (length < 2 || !(fs_hz >= PPGKD_CADENCE_MIN_FS_HZ) || !is_finite(fs_hz)) return PPGKD_ERR_ARG;
  if (!(min_share >= 0.0f && min_share <= 1.0f)) return PPGKD_ERR_ARG;
  *cadence_bpm = 0.0f;
  *share = 0.0f;
  if (channels < 4) return PPGKD_OK; /* no accelerometer */
  for (a = 0; a < 3; ++a) {
    float sum = 0.0f;
    acc[a] = window + (a + 1) * length;
    for (n = 0; n < length; ++n) {
      if (!is_finite(acc[a][n])) return PPGKD_ERR_INPUT;
      sum += acc[a][n];
    }
    mean[a] = sum / (float)length;
  }
  taper_step = 2.0f / (float)(length - 1);
  for (c = 0; c < K; ++c) {
    /* omega = 2 pi f / fs with f = (30.5 + c) / 60 Hz; <= pi since fs >= 8 Hz. */
    const float omega = 6.28318531f * ((30.5f + (float)c) / (60.0f * fs_hz));
    const float coeff = 2.0f * cos_0_pi(omega);
    float s1[3] = {0.0f, 0.0f, 0.0f}, s2[3] = {0.0f, 0.0f, 0.0f}, p = 0.0f;
    for (n = 0; n < length; ++n) {
      const float u = (float)n * taper_step - 1.0f;
      float w = 1.0f - u * u;
      w = w * w;
      for (a = 0; a < 3; ++a) {
        const float s0 = (w * (acc[a][n] - mean[a]) + coeff * s1[a]) - s2[a];
        s2[a] = s1[a];
        s1[a] = s0;
      }
    }
    for (a = 0; a < 3; ++a) {
      const float q = (s1[a] * s1[a] + s2[a] * s2[a]) - coeff * s1[a] * s2[a];
      p += q > 0.0f ? q : 0.0f; /* rounding can make a zero power slightly negative */
    }
    power[c] = p;
    total += p;
    if (p > power[peak]) peak = c;
  }
  if (!(total > 0.0f) || !is_finite(total)) return PPGKD_OK; /* flat: no power in the band */
  lo = peak > PPGKD_CADENCE_LOBE ? peak - PPGKD_CADENCE_LOBE : 0;
  hi = peak + PPGKD_CADENCE_LOBE < K ? peak + PPGKD_CADENCE_LOBE : K - 1;
  for (c = lo; c <= hi; ++c) lobe += power[c];
  *share = lobe / total;
  if (*share >= min_share && *share > 0.0f) *cadence_bpm = 30.5f + (float)peak;
  return PPGKD_OK;
}

float ppgkd_cadence_factor(float class_bpm, float cadence_bpm, float depth, float width_bpm,
                           uint32_t half_harmonic) {
  static const float harmonic[3] = {1.0f, 2.0f, 0.5f};
  const float inv = 1.0f / (2.0f * width_bpm * width_bpm);
  float m = 0.0f;
  uint32_t h;
  if (!(cadence_bpm > 0.0f) || depth == 0.0f) return 1.0f;
  for (h = 0; h < (half_harmonic ? 3u : 2u); ++h) {
    const float d = class_bpm - harmonic[h] * cadence_bpm;
    const float g = ppgkd_exp_nonpos(-(d * d) * inv);
    if (g > m) m = g;
  }
  return 1.0f - depth * m;
}
