/* tracker.c — the online HR tracker (see ppgkd_tracker.h): Laplacian transition prior, tempered
 * and floored emission, forward filter normalised each step, decoding of the filtered belief.
 * Not here: running a model (graph.c) or decoding a single window's logits (decode.c).
 *
 * Every float operation is a plain +, -, *, / in a fixed loop order, and exp/log are computed
 * here from bit manipulation and polynomials instead of libm, whose expf/logf/powf differ in the
 * last bit between glibc and newlib: that is what makes host and Cortex-M4 tracks identical. */
#include <string.h>

#include "ppgkd_tracker.h"

#define K PPGKD_TRACKER_CLASSES

/* ------------------------------------------------------------------ exp and log without libm */

static uint32_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static float bits_float(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* x * 2^n, exact unless the result is subnormal (then one IEEE rounding, the same everywhere). */
static float scale_pow2(float x, int n) {
  while (n > 127) x *= bits_float(254u << 23), n -= 127;
  while (n < -126) x *= bits_float(1u << 23), n += 126; /* 2^-126, the smallest normal */
  return x * bits_float((uint32_t)(n + 127) << 23);
}

/* ln 2 split so that n * LN2_HI is exact for |n| < 2^12 (LN2_HI has 12 significant bits). */
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682030941723212e-6f

/* exp(x) for x <= 0, relative error ~1e-7; 0 below -104 (under the smallest subnormal).
 * x = n ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor series to r^8 (error < 3e-10). */
static float exp_nonpos(float x) {
  float r, p;
  int n;
  if (x < -104.0f) return 0.0f;
  n = (int)(x * 1.44269504f - 0.5f); /* round to nearest (x <= 0: truncation goes up) */
  r = (x - (float)n * LN2_HI) - (float)n * LN2_LO;
  p = 1.0f +
      r * (1.0f +
           r * (0.5f + r * (1.0f / 6 +
                            r * (1.0f / 24 +
                                 r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040 +
                                                                          r * (1.0f / 40320))))))));
  return scale_pow2(p, n);
}

/* ln(x) for finite x > 0, absolute error ~1e-7. x = m 2^e with m in [sqrt(1/2), sqrt(2));
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, series to s^11 (error < 1e-10). */
static float log_pos(float x) {
  uint32_t u;
  int e = 0;
  float m, s, s2, series;
  if (x < bits_float(1u << 23)) x *= 16777216.0f, e = -24; /* subnormal: scale by 2^24 first */
  u = float_bits(x);
  e += (int)(u >> 23) - 127;
  m = bits_float((u & 0x7fffffu) | 0x3f800000u); /* [1, 2) */
  if (m > 1.41421356f) m *= 0.5f, ++e;
  s = (m - 1.0f) / (m + 1.0f);
  s2 = s * s;
  series = 1.0f +
           s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
  return (float)e * LN2_HI + ((float)e * LN2_LO + 2.0f * s * series);
}

/* v^gamma for 0 < v <= 1 (so the exponent is <= 0); gamma == 1 returns v untouched. */
static float pow_unit(float v, float gamma) {
  if (gamma == 1.0f) return v;
  return exp_nonpos(gamma * log_pos(v));
}

static int is_finite(float x) {
  return x - x == 0.0f;
}

/* ------------------------------------------------------------------ init and reset */

ppgkd_status ppgkd_tracker_reset(ppgkd_tracker* t) {
  uint32_t i;
  if (!t || !t->ready) return PPGKD_ERR_ARG;
  for (i = 0; i < K; ++i) t->belief[i] = 1.0f / K;
  t->steps = 0;
  return PPGKD_OK;
}

ppgkd_status ppgkd_tracker_init(ppgkd_tracker* t, float scale_bpm, uint32_t max_delta_bins,
                                float gamma, float floor) {
  uint32_t i, j, d;
  if (!t) return PPGKD_ERR_ARG;
  t->ready = 0;
  if (!(is_finite(scale_bpm) && scale_bpm > 0.0f)) return PPGKD_ERR_DECODE;
  if (max_delta_bins > PPGKD_TRACKER_MAX_DELTA) return PPGKD_ERR_DECODE;
  if (!(is_finite(gamma) && gamma > 0.0f)) return PPGKD_ERR_DECODE;
  if (!(floor > 0.0f && floor < 1.0f)) return PPGKD_ERR_DECODE;
  /* The smallest emission bounds the normaliser from below (it is >= min e * max pred, and
   * max pred >= 1 / K): keeping it >= 1e-30 keeps every step's evidence mass a normal float. */
  if (!(pow_unit(floor / K, gamma) >= PPGKD_TRACKER_MIN_EMISSION)) return PPGKD_ERR_DECODE;
  t->scale_bpm = scale_bpm;
  t->gamma = gamma;
  t->floor = floor;
  t->max_delta = max_delta_bins;
  for (d = 0; d < K; ++d)
    t->kernel[d] = d <= max_delta_bins ? exp_nonpos(-(float)d / scale_bpm) : 0;
  /* Row i of the transition is kernel[|j - i|] / row_sum[i] over the classes j: the host's
   * kernel_transition renormalises each truncated row the same way. Summed in ascending j. */
  for (i = 0; i < K; ++i) {
    float sum = 0.0f;
    for (j = 0; j < K; ++j) sum += t->kernel[j > i ? j - i : i - j];
    t->row_sum[i] = sum;
  }
  t->ready = 1;
  return ppgkd_tracker_reset(t);
}

/* ------------------------------------------------------------------ update */

/* The decode of ppgkd_decode_f32 applied to a distribution instead of logits. */
static void decode_belief(const float* b, float* bpm, float* confidence) {
  uint32_t i, arg = 0, lo, hi;
  float mass = 0.0f, moment = 0.0f;
  for (i = 1; i < K; ++i)
    if (b[i] > b[arg]) arg = i;
  lo = arg > PPGKD_TRACKER_RADIUS ? arg - PPGKD_TRACKER_RADIUS : 0;
  hi = arg + PPGKD_TRACKER_RADIUS < K ? arg + PPGKD_TRACKER_RADIUS : K - 1;
  for (i = lo; i <= hi; ++i) {
    const float centre = PPGKD_TRACKER_BPM_LO + ((float)i + 0.5f) * PPGKD_TRACKER_BPM_STEP;
    mass += b[i];
    moment += b[i] * centre;
  }
  /* mass >= b[arg] >= 1 / K > 0 since the belief sums to 1. */
  *bpm = moment / mass;
  *confidence = mass;
}

ppgkd_status ppgkd_tracker_update(ppgkd_tracker* t, const float* posterior, float* tracked_bpm,
                                  float* confidence) {
  uint32_t i, j;
  float c = 0.0f, uniform_part;
  if (!t || !t->ready || !posterior || !tracked_bpm || !confidence) return PPGKD_ERR_ARG;
  /* Validate everything before touching the state, so an error leaves it unchanged. */
  for (j = 0; j < K; ++j)
    if (!(posterior[j] >= 0.0f && posterior[j] <= 1.0f)) return PPGKD_ERR_INPUT; /* NaN too */

  /* Predict: belief <- A^T belief, pred[j] = sum_i belief[i] / row_sum[i] * kernel[|j - i|]
   * over |j - i| <= max_delta, in ascending i. The first step starts from the uniform belief. */
  if (t->steps > 0) {
    const uint32_t w = t->max_delta;
    for (i = 0; i < K; ++i) t->scratch[i] = t->belief[i] / t->row_sum[i];
    for (j = 0; j < K; ++j) {
      const uint32_t lo = j > w ? j - w : 0, hi = j + w < K ? j + w : K - 1;
      float acc = 0.0f;
      /* Two loops instead of |j - i| per term; the summation order stays ascending i. */
      for (i = lo; i < j; ++i) acc += t->scratch[i] * t->kernel[j - i];
      for (i = j; i <= hi; ++i) acc += t->scratch[i] * t->kernel[i - j];
      t->belief[j] = acc;
    }
  } else {
    for (j = 0; j < K; ++j) t->belief[j] = 1.0f / K;
  }

  /* Absorb the evidence e = ((1 - floor) p + floor / K)^gamma and normalise. Every e >= the
   * minimum checked at init and the prediction sums to ~1, so c is a positive normal float. */
  uniform_part = t->floor / K;
  for (j = 0; j < K; ++j) {
    const float v = (1.0f - t->floor) * posterior[j] + uniform_part;
    t->belief[j] *= pow_unit(v, t->gamma);
    c += t->belief[j];
  }
  for (j = 0; j < K; ++j) t->belief[j] /= c;
  ++t->steps;
  decode_belief(t->belief, tracked_bpm, confidence);
  return PPGKD_OK;
}
