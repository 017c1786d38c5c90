/* tracker.c — the online HR tracker (see ppgkd_tracker.h): Laplacian transition prior, tempered
 * and floored emission (optionally penalised at the motion cadence, cadence.c), forward filter
 * normalised each step, decoding of the filtered belief. Not here: running a model (graph.c) or
 * decoding a single window's logits (decode.c).
 *
 * Every float operation is a plain +, -, *, / in a fixed loop order, and exp/log come from
 * nolibm_math.c (bit manipulation and polynomials) instead of libm, whose expf/logf/powf differ
 * in the last bit between glibc and newlib: that is what makes host and Cortex-M4 tracks
 * identical. */
#include "nolibm_math.h"
#include "ppgkd_tracker.h"

#define K PPGKD_TRACKER_CLASSES

/* ------------------------------------------------------------------ helpers */

/* v^gamma for 0 < v <= 1 (so the exponent is <= 0); gamma == 1 returns v untouched. */
static float pow_unit(float v, float gamma) {
  if (gamma == 1.0f) return v;
  return ppgkd_exp_nonpos(gamma * ppgkd_log_pos(v));
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
  t->cadence_depth = 0.0f;
  t->cadence_width = PPGKD_CADENCE_WIDTH_BPM;
  t->cadence_half = 0;
  for (d = 0; d < K; ++d)
    t->kernel[d] = d <= max_delta_bins ? ppgkd_exp_nonpos(-(float)d / scale_bpm) : 0;
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

ppgkd_status ppgkd_tracker_set_cadence_penalty(ppgkd_tracker* t, float depth, float width_bpm,
                                               uint32_t half_harmonic) {
  if (!t || !t->ready) return PPGKD_ERR_ARG;
  if (!(depth >= 0.0f && depth < 1.0f)) return PPGKD_ERR_DECODE;
  if (!(is_finite(width_bpm) && width_bpm > 0.0f)) return PPGKD_ERR_DECODE;
  if (half_harmonic > 1) return PPGKD_ERR_DECODE;
  if (!(pow_unit(t->floor / K, t->gamma) * (1.0f - depth) >= PPGKD_TRACKER_MIN_EMISSION))
    return PPGKD_ERR_DECODE;
  t->cadence_depth = depth;
  t->cadence_width = width_bpm;
  t->cadence_half = half_harmonic;
  return PPGKD_OK;
}

ppgkd_status ppgkd_tracker_update(ppgkd_tracker* t, const float* posterior, float* tracked_bpm,
                                  float* confidence) {
  return ppgkd_tracker_update_cadence(t, posterior, 0.0f, tracked_bpm, confidence);
}

ppgkd_status ppgkd_tracker_update_cadence(ppgkd_tracker* t, const float* posterior,
                                          float cadence_bpm, float* tracked_bpm,
                                          float* confidence) {
  uint32_t i, j;
  float c = 0.0f, uniform_part;
  int penalise;
  if (!t || !t->ready || !posterior || !tracked_bpm || !confidence) return PPGKD_ERR_ARG;
  if (!(is_finite(cadence_bpm) && cadence_bpm >= 0.0f)) return PPGKD_ERR_INPUT;
  penalise = cadence_bpm > 0.0f && t->cadence_depth > 0.0f;
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

  /* Absorb the evidence e = ((1 - floor) p + floor / K)^gamma, times the cadence penalty when
   * there is one, and normalise. Every e >= the minimum checked at init (and by the penalty's
   * setter) and the prediction sums to ~1, so c is a positive normal float. */
  uniform_part = t->floor / K;
  for (j = 0; j < K; ++j) {
    const float v = (1.0f - t->floor) * posterior[j] + uniform_part;
    float e = pow_unit(v, t->gamma);
    if (penalise) {
      const float centre = PPGKD_TRACKER_BPM_LO + ((float)j + 0.5f) * PPGKD_TRACKER_BPM_STEP;
      e *= ppgkd_cadence_factor(centre, cadence_bpm, t->cadence_depth, t->cadence_width,
                                t->cadence_half);
    }
    t->belief[j] *= e;
    c += t->belief[j];
  }
  for (j = 0; j < K; ++j) t->belief[j] /= c;
  ++t->steps;
  decode_belief(t->belief, tracked_bpm, confidence);
  return PPGKD_OK;
}
