/* preprocess.c — on-device preprocessing: per-window standardisation (each channel to zero mean
 * and unit population variance, as training does) and a causal biquad cascade for streaming
 * band-pass filtering. Resampling to 25 Hz is not done here: the sensor is configured for it. */
#include <math.h>

#include "ppgkd_edge.h"

ppgkd_status ppgkd_standardise(float* x, uint32_t channels, uint32_t length) {
  uint32_t c, i;
  if (!x || channels < 1 || length < 1) return PPGKD_ERR_ARG;
  for (c = 0; c < channels; ++c) {
    float* xc = x + (size_t)c * length;
    float mean = 0.0f, var = 0.0f, sd;
    for (i = 0; i < length; ++i) mean += xc[i];
    mean /= (float)length;
    /* Two passes: the one-pass E[x^2] - E[x]^2 loses every digit on a large DC offset. */
    for (i = 0; i < length; ++i) var += (xc[i] - mean) * (xc[i] - mean);
    sd = sqrtf(var / (float)length);
    if (!(sd >= 1e-6f)) { /* flat channel (or NaN): zeros rather than a division blow-up */
      for (i = 0; i < length; ++i) xc[i] = 0.0f;
      continue;
    }
    for (i = 0; i < length; ++i) xc[i] = (xc[i] - mean) / sd;
  }
  return PPGKD_OK;
}

ppgkd_status ppgkd_sos_init(ppgkd_sos_filter* f, const ppgkd_biquad* sections,
                            uint32_t num_sections, float* state) {
  if (!f || !sections || !state || num_sections < 1) return PPGKD_ERR_ARG;
  f->sections = sections;
  f->state = state;
  f->num_sections = num_sections;
  ppgkd_sos_reset(f);
  return PPGKD_OK;
}

void ppgkd_sos_reset(ppgkd_sos_filter* f) {
  uint32_t i;
  for (i = 0; i < 2 * f->num_sections; ++i) f->state[i] = 0.0f;
}

void ppgkd_sos_prime(ppgkd_sos_filter* f, float x0) {
  uint32_t s;
  float u = x0;
  for (s = 0; s < f->num_sections; ++s) {
    /* Transposed direct form II in steady state under a constant input u, output y = H(1) u:
     * z1 = b2 u - a2 y and z0 = b1 u - a1 y + z1; each section's output feeds the next. */
    const ppgkd_biquad* q = &f->sections[s];
    float* z = &f->state[2 * s];
    const float den = 1.0f + q->a1 + q->a2;
    const float y = den != 0.0f ? u * (q->b0 + q->b1 + q->b2) / den : 0.0f;
    z[1] = q->b2 * u - q->a2 * y;
    z[0] = q->b1 * u - q->a1 * y + z[1];
    u = y;
  }
}

float ppgkd_sos_step(ppgkd_sos_filter* f, float x) {
  uint32_t s;
  for (s = 0; s < f->num_sections; ++s) {
    /* Transposed direct form II: two state values, better float behaviour than direct form I
     * for the narrow low-frequency poles of a 0.5 Hz edge at 25 Hz. */
    const ppgkd_biquad* q = &f->sections[s];
    float* z = &f->state[2 * s];
    const float y = q->b0 * x + z[0];
    z[0] = q->b1 * x - q->a1 * y + z[1];
    z[1] = q->b2 * x - q->a2 * y;
    x = y;
  }
  return x;
}
