/* dense.c — fully connected layer (bias, fused ReLU), f32 reference and int8 kernel.
 * Shapes: N flattened inputs -> M outputs; see ppgkd_edge_ops.h for every parameter. */
#include "ppgkd_edge_ops.h"

static int64_t elems(const ppgkd_dims* d) {
  return (int64_t)d->n * d->c * d->l;
}

static int dense_dims_ok(const ppgkd_dims* in_dims, const ppgkd_dims* w_dims,
                         const ppgkd_dims* bias_dims, const ppgkd_dims* out_dims, int has_bias) {
  if (!in_dims || !w_dims || !out_dims) return 0;
  if (w_dims->n < 1 || w_dims->c < 1 || w_dims->l != 1) return 0;
  if (elems(in_dims) != w_dims->c || elems(out_dims) != w_dims->n) return 0;
  if (has_bias && (!bias_dims || bias_dims->n != w_dims->n)) return 0;
  return 1;
}

ppgkd_status ppgkd_dense_f32(const ppgkd_context* ctx, const ppgkd_dense_params* p,
                             const ppgkd_dims* in_dims, const float* in, const ppgkd_dims* w_dims,
                             const float* w, const ppgkd_dims* bias_dims, const float* bias,
                             const ppgkd_dims* out_dims, float* out) {
  int32_t m, n;
  (void)ctx;
  if (!p || !in || !w || !out) return PPGKD_ERR_ARG;
  if (!dense_dims_ok(in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
  for (m = 0; m < w_dims->n; ++m) {
    const float* wm = w + (int64_t)m * w_dims->c;
    float acc = bias ? bias[m] : 0.0f;
    for (n = 0; n < w_dims->c; ++n) acc += wm[n] * in[n];
    if (p->relu && acc < 0.0f) acc = 0.0f;
    out[m] = acc;
  }
  return PPGKD_OK;
}

ppgkd_status ppgkd_dense_s8(const ppgkd_context* ctx, const ppgkd_dense_params* p,
                            const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                            const ppgkd_dims* in_dims, const int8_t* in, const ppgkd_dims* w_dims,
                            const int8_t* w, const ppgkd_dims* bias_dims, const int32_t* bias,
                            const ppgkd_dims* out_dims, int8_t* out) {
  int32_t m, n;
  (void)ctx;
  if (!p || !in || !w || !out || !act || !q || !q->multiplier || !q->shift) return PPGKD_ERR_ARG;
  if (!dense_dims_ok(in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
  for (m = 0; m < w_dims->n; ++m) {
    const int8_t* wm = w + (int64_t)m * w_dims->c;
    int32_t acc = bias ? bias[m] : 0; /* cannot overflow: ppgkd_s8_accumulator_fits */
    int64_t v;
    for (n = 0; n < w_dims->c; ++n) acc += (int32_t)wm[n] * ((int32_t)in[n] - act->in_zp);
    v = (int64_t)ppgkd_requantize(acc, q->multiplier[m], q->shift[m]) + act->out_zp;
    if (v < act->act_min) v = act->act_min;
    if (v > act->act_max) v = act->act_max;
    out[m] = (int8_t)v;
  }
  return PPGKD_OK;
}
