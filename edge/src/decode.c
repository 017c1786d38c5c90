/* decode.c — logits to a heart rate: softmax over the K classes, then the posterior-weighted
 * mean of bin centres within +-radius bins of the argmax, normalised by the mass in that window,
 * which is also the confidence. No buffer: the softmax is recomputed on the fly, since a
 * posterior of K = 180 floats would be the largest stack object on a device. The exponential
 * is ppgkd_exp_nonpos (nolibm_math.c), not libm's expf, whose last bit differs between glibc and
 * newlib: with it the host and a Cortex-M4 decode the same logits to the same BPM and confidence
 * bits. */
#include "nolibm_math.h"
#include "ops/simd.h"
#include "ppgkd_edge_ops.h"

/* Logit i as a float; scale == 0 marks the f32 path. */
static float logit_at(const float* f, const int8_t* q, float scale, int32_t zp, uint32_t i) {
  return f ? f[i] : scale * (float)((int32_t)q[i] - zp);
}

static ppgkd_status decode(const ppgkd_decode_params* p, const float* f, const int8_t* q,
                           float scale, int32_t zp, float* bpm, float* confidence) {
  uint32_t i, arg = 0, lo, hi;
  float max_logit, total = 0.0f, mass = 0.0f, moment = 0.0f;
  if (!p || !bpm || !confidence || (!f && !q)) return PPGKD_ERR_ARG;
  if (p->num_classes < 1 || p->radius >= p->num_classes) return PPGKD_ERR_DECODE;
  max_logit = logit_at(f, q, scale, zp, 0);
  for (i = 1; i < p->num_classes; ++i) {
    const float v = logit_at(f, q, scale, zp, i);
    if (v > max_logit) {
      max_logit = v;
      arg = i;
    }
  }
  if (!(max_logit - max_logit == 0.0f)) return PPGKD_ERR_INPUT; /* NaN or infinite logits */
  /* Subtracting the max keeps every exponent <= 0: the domain of ppgkd_exp_nonpos, no overflow.
   * The AVX2 build takes the exponentials eight at a time (ppgkd_exp_nonpos8, the same bits) and
   * adds them in the same order. */
  i = 0;
#ifdef PPGKD_FAST_AVX2
  for (; i + 8 <= p->num_classes; i += 8) {
    float v[8], e[8];
    uint32_t j;
    for (j = 0; j < 8; ++j) v[j] = logit_at(f, q, scale, zp, i + j) - max_logit;
    ppgkd_exp_nonpos8(v, e);
    for (j = 0; j < 8; ++j) total += e[j];
  }
#endif
  for (; i < p->num_classes; ++i)
    total += ppgkd_exp_nonpos(logit_at(f, q, scale, zp, i) - max_logit);
  lo = arg > p->radius ? arg - p->radius : 0;
  hi = arg + p->radius < p->num_classes ? arg + p->radius : p->num_classes - 1;
  for (i = lo; i <= hi; ++i) {
    const float prob = ppgkd_exp_nonpos(logit_at(f, q, scale, zp, i) - max_logit) / total;
    const float centre = p->bpm_lo + ((float)i + 0.5f) * p->bpm_step;
    mass += prob;
    moment += prob * centre;
  }
  /* mass >= prob[arg] >= 1 / num_classes > 0, so the division is safe. */
  *bpm = moment / mass;
  *confidence = mass;
  return PPGKD_OK;
}

ppgkd_status ppgkd_decode_f32(const ppgkd_decode_params* p, const float* logits, float* bpm,
                              float* confidence) {
  if (!logits) return PPGKD_ERR_ARG;
  return decode(p, logits, 0, 0.0f, 0, bpm, confidence);
}

ppgkd_status ppgkd_decode_s8(const ppgkd_decode_params* p, float scale, int32_t zero_point,
                             const int8_t* logits, float* bpm, float* confidence) {
  if (!logits) return PPGKD_ERR_ARG;
  if (!(scale > 0.0f) || scale - scale != 0.0f) return PPGKD_ERR_DECODE;
  return decode(p, 0, logits, scale, zero_point, bpm, confidence);
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
