/* conv1d.c — 1-D convolution (stride, zero padding, dilation, bias, fused ReLU), the f32
 * reference and the int8 kernel. Shapes: (C_in, L_in) -> (C_out, L_out); see ppgkd_edge_ops.h
 * for every parameter's layout, dtype and range. */
#include "ppgkd_edge_ops.h"

int32_t ppgkd_conv1d_out_length(int32_t l_in, int32_t k, const ppgkd_conv1d_params* p) {
  int64_t span, num;
  if (!p || l_in < 1 || k < 1 || p->stride < 1 || p->padding < 0 || p->dilation < 1) return 0;
  span = (int64_t)p->dilation * (k - 1) + 1; /* receptive field of one output */
  num = (int64_t)l_in + 2 * (int64_t)p->padding - span;
  if (num < 0) return 0;
  num = num / p->stride + 1;
  return num > INT32_MAX ? 0 : (int32_t)num;
}

/* The checks both dtypes share: O(1), so kernels stay safe to call directly. */
static int conv_dims_ok(const ppgkd_conv1d_params* p, const ppgkd_dims* in_dims,
                        const ppgkd_dims* w_dims, const ppgkd_dims* bias_dims,
                        const ppgkd_dims* out_dims, int has_bias) {
  if (!p || !in_dims || !w_dims || !out_dims) return 0;
  if (w_dims->c != in_dims->c || out_dims->c != w_dims->n) return 0;
  if (in_dims->c < 1 || w_dims->n < 1 || w_dims->l < 1) return 0;
  if (out_dims->l < 1 || out_dims->l != ppgkd_conv1d_out_length(in_dims->l, w_dims->l, p)) {
    return 0;
  }
  if (has_bias && (!bias_dims || bias_dims->n != w_dims->n)) return 0;
  return 1;
}

ppgkd_status ppgkd_conv1d_f32(const ppgkd_context* ctx, const ppgkd_conv1d_params* p,
                              const ppgkd_dims* in_dims, const float* in, const ppgkd_dims* w_dims,
                              const float* w, const ppgkd_dims* bias_dims, const float* bias,
                              const ppgkd_dims* out_dims, float* out) {
  int32_t co, ci, k, t;
  (void)ctx;
  if (!in || !w || !out) return PPGKD_ERR_ARG;
  if (!conv_dims_ok(p, in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
  {
    const int32_t c_in = in_dims->c, l_in = in_dims->l;
    const int32_t c_out = w_dims->n, kk = w_dims->l, l_out = out_dims->l;
    for (co = 0; co < c_out; ++co) {
      for (t = 0; t < l_out; ++t) {
        float acc = bias ? bias[co] : 0.0f;
        const int32_t start = t * p->stride - p->padding;
        for (ci = 0; ci < c_in; ++ci) {
          const float* x = in + (int64_t)ci * l_in;
          const float* wk = w + ((int64_t)co * c_in + ci) * kk;
          for (k = 0; k < kk; ++k) {
            const int32_t pos = start + k * p->dilation;
            if (pos >= 0 && pos < l_in) acc += wk[k] * x[pos]; /* outside: zero padding */
          }
        }
        if (p->relu && acc < 0.0f) acc = 0.0f;
        out[(int64_t)co * l_out + t] = acc;
      }
    }
  }
  return PPGKD_OK;
}

ppgkd_status ppgkd_conv1d_s8(const ppgkd_context* ctx, const ppgkd_conv1d_params* p,
                             const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                             const ppgkd_dims* in_dims, const int8_t* in, const ppgkd_dims* w_dims,
                             const int8_t* w, const ppgkd_dims* bias_dims, const int32_t* bias,
                             const ppgkd_dims* out_dims, int8_t* out) {
  int32_t co, ci, k, t;
  (void)ctx;
  if (!in || !w || !out || !act || !q || !q->multiplier || !q->shift) return PPGKD_ERR_ARG;
  if (!conv_dims_ok(p, in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
  {
    const int32_t c_in = in_dims->c, l_in = in_dims->l;
    const int32_t c_out = w_dims->n, kk = w_dims->l, l_out = out_dims->l;
    for (co = 0; co < c_out; ++co) {
      for (t = 0; t < l_out; ++t) {
        int32_t acc = bias ? bias[co] : 0; /* cannot overflow: ppgkd_s8_accumulator_fits */
        int32_t y;
        const int32_t start = t * p->stride - p->padding;
        for (ci = 0; ci < c_in; ++ci) {
          const int8_t* x = in + (int64_t)ci * l_in;
          const int8_t* wk = w + ((int64_t)co * c_in + ci) * kk;
          for (k = 0; k < kk; ++k) {
            const int32_t pos = start + k * p->dilation;
            if (pos >= 0 && pos < l_in) acc += (int32_t)wk[k] * ((int32_t)x[pos] - act->in_zp);
          }
        }
        y = ppgkd_requantize(acc, q->multiplier[co], q->shift[co]);
        /* y is saturated to int32; adding a zero point in 64 bits cannot overflow. */
        {
          int64_t v = (int64_t)y + act->out_zp;
          if (v < act->act_min) v = act->act_min;
          if (v > act->act_max) v = act->act_max;
          out[(int64_t)co * l_out + t] = (int8_t)v;
        }
      }
    }
  }
  return PPGKD_OK;
}
