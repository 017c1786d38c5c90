/* decode.c — logits to a heart rate: softmax over the K classes, smoothed by a small Gaussian,
 * then the mean of bin centres weighted by the smoothed posterior within +-radius bins of its
 * argmax, normalised by the smoothed mass in that window, which is also the confidence. No
 * posterior buffer: the softmax is recomputed on the fly, since K = 180 floats would be the
 * largest stack object on a device; the smoothing's argmax pass keeps a ring of 2r + 1 (<= 31)
 * probabilities. The exponential is ppgkd_exp_nonpos (nolibm_math.c), not libm's expf, whose last
 * bit differs between glibc and newlib: with it the host and a Cortex-M4 decode the same logits to
 * the same BPM and confidence bits. */
#include "nolibm_math.h"
#include "ops/simd.h"
#include "ppgkd_edge_ops.h"

#define MAX_SMOOTH_RADIUS 15u /* ceil(3 * PPGKD_DECODE_MAX_SMOOTH_SIGMA) */
#define RING (2u * MAX_SMOOTH_RADIUS + 1u)

/* The posterior as logits (f32, or int8 with scale and zero point; scale == 0 marks f32), with
 * the softmax's max and normaliser once known. */
typedef struct {
  const float* f;
  const int8_t* q;
  float scale;
  int32_t zp;
  uint32_t n;
  float max_logit, total;
} posterior;

static float logit_at(const posterior* p, uint32_t i) {
  return p->f ? p->f[i] : p->scale * (float)((int32_t)p->q[i] - p->zp);
}

static float prob_at(const posterior* p, uint32_t i) {
  return ppgkd_exp_nonpos(logit_at(p, i) - p->max_logit) / p->total;
}

/* The Gaussian taps w[0..r] (w[d] for |d| = d), summing to 1 over -r..r; returns r (0: none). */
static uint32_t smoothing_taps(float sigma, float* w) {
  uint32_t r = 0, d;
  float sum;
  if (sigma == 0.0f) {
    w[0] = 1.0f;
    return 0;
  }
  while ((float)r < 3.0f * sigma) ++r; /* ceil(3 sigma) */
  sum = w[0] = 1.0f;
  for (d = 1; d <= r; ++d) {
    w[d] = ppgkd_exp_nonpos(-(float)(d * d) / (2.0f * sigma * sigma));
    sum += 2.0f * w[d];
  }
  for (d = 0; d <= r; ++d) w[d] /= sum;
  return r;
}

/* Smoothed probability of class c, the terms in d = -r..r order; ring[k % RING] holds p(k) for
 * every k within r of c and inside the range. */
static float smoothed(const float* ring, const float* w, uint32_t r, uint32_t n, uint32_t c) {
  const uint32_t lo = c > r ? c - r : 0, hi = c + r < n ? c + r : n - 1;
  uint32_t k;
  float v = 0.0f;
  for (k = lo; k <= hi; ++k) v += w[k > c ? k - c : c - k] * ring[k % RING];
  return v;
}

static ppgkd_status decode(const ppgkd_decode_params* dp, posterior* p, float* bpm,
                           float* confidence) {
  float w[MAX_SMOOTH_RADIUS + 1], ring[RING];
  uint32_t i, j, arg = 0, lo, hi, r;
  float best = -1.0f, mass = 0.0f, moment = 0.0f;
  if (!dp || !bpm || !confidence) return PPGKD_ERR_ARG;
  if (dp->num_classes < 1 || dp->radius >= dp->num_classes) return PPGKD_ERR_DECODE;
  if (!(dp->smooth_sigma >= 0.0f && dp->smooth_sigma <= PPGKD_DECODE_MAX_SMOOTH_SIGMA))
    return PPGKD_ERR_DECODE;
  p->n = dp->num_classes;
  p->max_logit = logit_at(p, 0);
  for (i = 1; i < p->n; ++i) {
    const float v = logit_at(p, i);
    if (v > p->max_logit) p->max_logit = v;
  }
  if (!(p->max_logit - p->max_logit == 0.0f)) return PPGKD_ERR_INPUT; /* NaN or infinite */
  /* Subtracting the max keeps every exponent <= 0: the domain of ppgkd_exp_nonpos, no overflow.
   * The AVX2 build takes the exponentials eight at a time (ppgkd_exp_nonpos8, the same bits) and
   * adds them in the same order. */
  p->total = 0.0f;
  i = 0;
#ifdef PPGKD_FAST_AVX2
  for (; i + 8 <= p->n; i += 8) {
    float v[8], e[8];
    for (j = 0; j < 8; ++j) v[j] = logit_at(p, i + j) - p->max_logit;
    ppgkd_exp_nonpos8(v, e);
    for (j = 0; j < 8; ++j) p->total += e[j];
  }
#endif
  for (; i < p->n; ++i) p->total += ppgkd_exp_nonpos(logit_at(p, i) - p->max_logit);
  /* The argmax of the smoothed posterior: class c = j - r is complete once p(j) is in the ring. */
  r = smoothing_taps(dp->smooth_sigma, w);
  for (j = 0; j < p->n + r; ++j) {
    if (j < p->n) ring[j % RING] = prob_at(p, j);
    if (j >= r) {
      const float v = smoothed(ring, w, r, p->n, j - r);
      if (v > best) best = v, arg = j - r;
    }
  }
  lo = arg > dp->radius ? arg - dp->radius : 0;
  hi = arg + dp->radius < p->n ? arg + dp->radius : p->n - 1;
  /* The same smoothed values again over lo..hi, the ring refilled from lo - r on. */
  for (j = lo > r ? lo - r : 0; j <= hi + r; ++j) {
    if (j < p->n) ring[j % RING] = prob_at(p, j);
    if (j >= lo + r) {
      const float v = smoothed(ring, w, r, p->n, j - r);
      mass += v;
      moment += v * (dp->bpm_lo + ((float)(j - r) + 0.5f) * dp->bpm_step);
    }
  }
  /* mass >= s(arg) > 0: every probability is positive (an exponential over a finite total). */
  *bpm = moment / mass;
  *confidence = mass;
  return PPGKD_OK;
}

ppgkd_status ppgkd_decode_f32(const ppgkd_decode_params* p, const float* logits, float* bpm,
                              float* confidence) {
  posterior post = {0};
  if (!logits) return PPGKD_ERR_ARG;
  post.f = logits;
  return decode(p, &post, bpm, confidence);
}

ppgkd_status ppgkd_decode_s8(const ppgkd_decode_params* p, float scale, int32_t zero_point,
                             const int8_t* logits, float* bpm, float* confidence) {
  posterior post = {0};
  if (!logits) return PPGKD_ERR_ARG;
  if (!(scale > 0.0f) || scale - scale != 0.0f) return PPGKD_ERR_DECODE;
  post.q = logits, post.scale = scale, post.zp = zero_point;
  return decode(p, &post, bpm, confidence);
}

ppgkd_status ppgkd_softmax_f32(const float* logits, uint32_t num_classes, float* prob) {
  uint32_t i;
  float max_logit, total = 0.0f;
  if (!logits || !prob || num_classes < 1) return PPGKD_ERR_ARG;
  max_logit = logits[0];
  for (i = 0; i < num_classes; ++i) {
    if (!(logits[i] - logits[i] == 0.0f)) return PPGKD_ERR_INPUT; /* NaN or infinite */
    if (logits[i] > max_logit) max_logit = logits[i];
  }
  for (i = 0; i < num_classes; ++i) {
    prob[i] = ppgkd_exp_nonpos(logits[i] - max_logit);
    total += prob[i];
  }
  for (i = 0; i < num_classes; ++i) prob[i] /= total; /* total >= 1: the max's term is 1 */
  return PPGKD_OK;
}
