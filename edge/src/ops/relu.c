/* relu.c — standalone ReLU, f32 and int8 (same quantisation in and out, so it is a clamp at the
 * zero point). Most ReLUs are fused into conv1d/dense/add; this op exists for graphs that keep
 * them separate. See ppgkd_edge_ops.h. */
#include "ppgkd_edge_ops.h"

static int same_dims(const ppgkd_dims* a, const ppgkd_dims* b) {
  return a && b && a->n == b->n && a->c == b->c && a->l == b->l;
}

ppgkd_status ppgkd_relu_f32(const ppgkd_context* ctx, const ppgkd_dims* in_dims, const float* in,
                            const ppgkd_dims* out_dims, float* out) {
  int64_t i, n;
  (void)ctx;
  if (!in || !out) return PPGKD_ERR_ARG;
  if (!same_dims(in_dims, out_dims)) return PPGKD_ERR_SHAPE;
  n = (int64_t)in_dims->n * in_dims->c * in_dims->l;
  for (i = 0; i < n; ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
  return PPGKD_OK;
}

ppgkd_status ppgkd_relu_s8(const ppgkd_context* ctx, int32_t zero_point, const ppgkd_dims* in_dims,
                           const int8_t* in, const ppgkd_dims* out_dims, int8_t* out) {
  int64_t i, n;
  (void)ctx;
  if (!in || !out || zero_point < -128 || zero_point > 127) return PPGKD_ERR_ARG;
  if (!same_dims(in_dims, out_dims)) return PPGKD_ERR_SHAPE;
  n = (int64_t)in_dims->n * in_dims->c * in_dims->l;
  for (i = 0; i < n; ++i) out[i] = in[i] > zero_point ? in[i] : (int8_t)zero_point;
  return PPGKD_OK;
}
