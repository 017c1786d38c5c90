/* avg_pool1d.c — average pooling over time without padding (global average pooling is
 * kernel = L_in), f32 reference and int8 kernel. Shapes: (C, L_in) -> (C, L_out); see
 * ppgkd_edge_ops.h. */
#include "ppgkd_edge_ops.h"

static int pool_dims_ok(const ppgkd_pool_params* p, const ppgkd_dims* in_dims,
                        const ppgkd_dims* out_dims) {
  if (!p || !in_dims || !out_dims) return 0;
  if (p->kernel < 1 || p->stride < 1 || p->kernel > in_dims->l) return 0;
  if (out_dims->c != in_dims->c || in_dims->c < 1) return 0;
  return out_dims->l == (in_dims->l - p->kernel) / p->stride + 1;
}

ppgkd_status ppgkd_avg_pool1d_f32(const ppgkd_context* ctx, const ppgkd_pool_params* p,
                                  const ppgkd_dims* in_dims, const float* in,
                                  const ppgkd_dims* out_dims, float* out) {
  int32_t c, t, k;
  (void)ctx;
  if (!in || !out) return PPGKD_ERR_ARG;
  if (!pool_dims_ok(p, in_dims, out_dims)) return PPGKD_ERR_SHAPE;
  for (c = 0; c < in_dims->c; ++c) {
    const float* x = in + (int64_t)c * in_dims->l;
    for (t = 0; t < out_dims->l; ++t) {
      float sum = 0.0f;
      for (k = 0; k < p->kernel; ++k) sum += x[t * p->stride + k];
      out[(int64_t)c * out_dims->l + t] = sum / (float)p->kernel;
    }
  }
  return PPGKD_OK;
}

ppgkd_status ppgkd_avg_pool1d_s8(const ppgkd_context* ctx, const ppgkd_pool_params* p,
                                 const ppgkd_s8_act* act, const ppgkd_quant* q,
                                 const ppgkd_dims* in_dims, const int8_t* in,
                                 const ppgkd_dims* out_dims, int8_t* out) {
  int32_t c, t, k;
  (void)ctx;
  if (!in || !out || !act || !q) return PPGKD_ERR_ARG;
  if (!pool_dims_ok(p, in_dims, out_dims)) return PPGKD_ERR_SHAPE;
  if (p->kernel > INT32_MAX / 255) return PPGKD_ERR_SHAPE; /* keeps |sum| <= kernel * 255 */
  for (c = 0; c < in_dims->c; ++c) {
    const int8_t* x = in + (int64_t)c * in_dims->l;
    for (t = 0; t < out_dims->l; ++t) {
      int32_t sum = 0;
      int64_t v;
      for (k = 0; k < p->kernel; ++k) sum += (int32_t)x[t * p->stride + k] - act->in_zp;
      v = (int64_t)ppgkd_requantize(sum, q->multiplier, q->shift) + act->out_zp;
      if (v < act->act_min) v = act->act_min;
      if (v > act->act_max) v = act->act_max;
      out[(int64_t)c * out_dims->l + t] = (int8_t)v;
    }
  }
  return PPGKD_OK;
}
