/* decode.c — logits to a heart rate: softmax over the K classes, smoothed by a small Gaussian,
 * then the mean of bin centres weighted by the smoothed posterior within +-radius bins of its
 * argmax, normalised by the smoothed mass in that window, which is also the confidence. No
 * posterior buffer, since K = 180 floats would be the largest stack object on a device: one pass
 * keeps a ring of the last 32 exponentials, stored twice (2r + 1 <= 31 are needed), and the
 * window's 2 radius + 2r + 1 are recomputed. The smoothed weight is computed only for classes
 * near a large exponential: no other class can hold the argmax (decode()). The exponential is
 * ppgkd_exp_nonpos (nolibm_math.c), not libm's expf, whose last bit differs between glibc and
 * newlib: with it the host and a Cortex-M4 decode the same logits to the same BPM and confidence
 * bits. */
#include "nolibm_math.h"
#include "ops/simd.h"
#include "ppgkd_edge_ops.h"

#define MAX_SMOOTH_RADIUS 15u /* ceil(3 * PPGKD_DECODE_MAX_SMOOTH_SIGMA) */
#define RING 32u              /* a power of two > 2 * MAX_SMOOTH_RADIUS: index by a mask */

/* The posterior as logits (f32 when f is set, else int8 with scale and zero point), with the
 * softmax's max and normaliser once known. */
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

/* exp(logit - max): the posterior times the softmax's normaliser, total. */
static float weight_at(const posterior* p, uint32_t i) {
  return ppgkd_exp_nonpos(logit_at(p, i) - p->max_logit);
}

/* weight_at(p, i + m) into out[m] for m < 8 and i + m < n. The AVX2 build takes a full block
 * eight at a time (ppgkd_exp_nonpos8, the same bits). */
static void weights8(const posterior* p, uint32_t i, float* out) {
  uint32_t m = 0;
#ifdef PPGKD_FAST_AVX2
  if (i + 8 <= p->n) {
    float v[8];
    for (m = 0; m < 8; ++m) v[m] = logit_at(p, i + m) - p->max_logit;
    ppgkd_exp_nonpos8(v, out);
    return;
  }
#endif
  for (; m < 8 && i + m < p->n; ++m) out[m] = weight_at(p, i + m);
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

/* Smoothed weight of class c: w[0] e(c) + sum over d = 1..r of w[d] (e(c - d) + e(c + d)), the
 * terms beyond the class range left out. ring holds e(k) at k % RING and again at k % RING + RING
 * for every k within r of c and inside the range, so e(c - r .. c + r) lie in a row from
 * ring[(c - r) % RING] on: classes at least r from both ends read that row without checks. */
static float smoothed(const float* ring, const float* w, uint32_t r, uint32_t n, uint32_t c) {
  const uint32_t m = RING - 1u;
  uint32_t d;
  float v = w[0] * ring[c & m];
  if (c >= r && c + r < n) {
    const float* e = ring + ((c - r) & m) + r;
    for (d = 1; d <= r; ++d) v += w[d] * (e[-(int32_t)d] + e[d]);
    return v;
  }
  for (d = 1; d <= r; ++d) {
    const float left = d <= c ? ring[(c - d) & m] : 0.0f;
    const float right = c + d < n ? ring[(c + d) & m] : 0.0f;
    v += w[d] * (left + right);
  }
  return v;
}

/* Stores e(k) in both copies of the ring. */
static void ring_put(float* ring, uint32_t k, float e) {
  ring[k & (RING - 1u)] = ring[(k & (RING - 1u)) + RING] = e;
}

static ppgkd_status decode(const ppgkd_decode_params* dp, posterior* p, float* bpm,
                           float* confidence) {
  float w[MAX_SMOOTH_RADIUS + 1], ring[2 * RING], block[8];
  uint32_t i, j, arg = 0, lo, hi, r, hot_until = 0;
  float best = -1.0f, mass = 0.0f, moment = 0.0f, hot;
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
   * One pass takes each e(j) = exp(logit_j - max) once, adds it to the softmax's normaliser and
   * completes the smoothed weight of class j - r, whose argmax it keeps. Smoothing and the
   * weighted mean are linear, so the normaliser divides only the confidence, at the end.
   * Pruning: the taps sum to 1, so s(c) <= the largest e within r of c; and s(a) >= w[0] for the
   * class a whose e is 1 (the max). A class with no e >= hot within r of it therefore has
   * s(c) < w[0] <= best (the margin 1e-4 covers the taps' and the sum's rounding, < 2r + 2
   * ulps) and cannot be the argmax: its smoothed weight is skipped. The result is the same bits
   * as scanning every class; a peaked posterior leaves a few dozen candidates of K. */
  p->total = 0.0f;
  r = smoothing_taps(dp->smooth_sigma, w);
  hot = w[0] * (1.0f - 1e-4f);
  for (j = 0; j < p->n + r; ++j) {
    if (j < p->n) {
      if (j % 8 == 0) weights8(p, j, block);
      ring_put(ring, j, block[j % 8]);
      p->total += block[j % 8];
      if (block[j % 8] >= hot) hot_until = j + 2 * r + 1; /* candidates: classes j - r .. j + r */
    }
    if (j >= r && j < hot_until) {
      const float v = smoothed(ring, w, r, p->n, j - r);
      if (v > best) best = v, arg = j - r;
    }
  }
  lo = arg > dp->radius ? arg - dp->radius : 0;
  hi = arg + dp->radius < p->n ? arg + dp->radius : p->n - 1;
  /* The same smoothed weights again over lo..hi, the ring refilled from lo - r on. */
  for (j = lo > r ? lo - r : 0; j <= hi + r; ++j) {
    if (j < p->n) ring_put(ring, j, weight_at(p, j));
    if (j >= lo + r) {
      const float v = smoothed(ring, w, r, p->n, j - r);
      mass += v;
      moment += v * (dp->bpm_lo + ((float)(j - r) + 0.5f) * dp->bpm_step);
    }
  }
  /* mass >= s(arg) >= w[0] e(argmax of e) = w[0] > 0, and total >= 1 (the max's term). */
  *bpm = moment / mass;
  *confidence = mass / p->total;
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
