/* dense.c — fully connected layer (bias, fused ReLU), f32 and int8.
 * Shapes: N flattened inputs -> M outputs; see ppgkd_edge_ops.h for every parameter.
 *
 * The specification is the plain loop  y[m] = b[m] + sum_n w[m, n] * x[n]  with n ascending
 * (the copy in edge/tests/test_ops.c is the reference the tests compare against, bit for bit).
 * The kernels compute four outputs at a time (ROWS), so one input load (and, for int8, one
 * x - zero_point) feeds four weight rows; the remaining M % 4 outputs go one by one. Each
 * accumulator still adds its own terms in the reference order, so f32 results are bit-identical
 * (no reassociation, no FMA contraction: edge/ is built with -ffp-contract=off); int8 sums are
 * exact in any order. */
#include "ppgkd_edge_ops.h"
#include "simd.h"

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

/* Outputs per block: one input load feeds ROWS weight rows. */
#define ROWS 4

/* Four consecutive weight rows w[0..3] (each n_in long, row r at w + r * n_in) against x:
 * acc[r] holds the bias on entry and the sum on return, terms added in order n = 0, 1, ... */
static void rows4_f32(const float* restrict x, const float* restrict w, int32_t n_in,
                      float* restrict acc) {
  const float* w0 = w;
  const float* w1 = w0 + n_in;
  const float* w2 = w1 + n_in;
  const float* w3 = w2 + n_in;
  float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t n;
  for (n = 0; n < n_in; ++n) {
    const float xv = x[n];
    a0 += w0[n] * xv, a1 += w1[n] * xv, a2 += w2[n] * xv, a3 += w3[n] * xv;
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* As rows4_f32 for int8: acc[r] += sum_n w[r, n] * (x[n] - in_zp). */
static void rows4_s8(const int8_t* restrict x, const int8_t* restrict w, int32_t n_in,
                     int32_t in_zp, int32_t* restrict acc) {
  const int8_t* w0 = w;
  const int8_t* w1 = w0 + n_in;
  const int8_t* w2 = w1 + n_in;
  const int8_t* w3 = w2 + n_in;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t n;
  for (n = 0; n < n_in; ++n) {
    const int32_t xv = (int32_t)x[n] - in_zp;
    a0 += w0[n] * xv, a1 += w1[n] * xv, a2 += w2[n] * xv, a3 += w3[n] * xv;
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

static float relu_f32(float acc, int32_t relu) {
  return relu && acc < 0.0f ? 0.0f : acc;
}

/* y = clamp(requantize(acc) + out_zp, act_min, act_max). */
static int8_t output_s8(int32_t acc, ppgkd_quant rq, const ppgkd_s8_act* act) {
  /* the requantised value is saturated to int32; adding a zero point in 64 bits cannot overflow */
  int64_t v = (int64_t)ppgkd_requantize(acc, rq.multiplier, rq.shift) + act->out_zp;
  if (v < act->act_min) v = act->act_min;
  if (v > act->act_max) v = act->act_max;
  return (int8_t)v;
}

ppgkd_status ppgkd_dense_f32(const ppgkd_context* ctx, const ppgkd_dense_params* p,
                             const ppgkd_dims* in_dims, const float* in, const ppgkd_dims* w_dims,
                             const float* w, const ppgkd_dims* bias_dims, const float* bias,
                             const ppgkd_dims* out_dims, float* out) {
  int32_t m, n;
  (void)ctx;
  if (!p || !in || !w || !out) return PPGKD_ERR_ARG;
  if (!dense_dims_ok(in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
#ifdef PPGKD_FAST_AVX2
  /* The AVX2 + FMA kernel (conv1d_f32_fast.c): within a stated tolerance, not bit-identical. */
  ppgkd_dense_f32_fast(p->relu, w_dims->c, in, w_dims->n, w, bias, out);
  return PPGKD_OK;
#endif
  for (m = 0; m + ROWS <= w_dims->n; m += ROWS) {
    float acc[ROWS];
    int32_t r;
    for (r = 0; r < ROWS; ++r) acc[r] = bias ? bias[m + r] : 0.0f;
    rows4_f32(in, w + (int64_t)m * w_dims->c, w_dims->c, acc);
    for (r = 0; r < ROWS; ++r) out[m + r] = relu_f32(acc[r], p->relu);
  }
  for (; m < w_dims->n; ++m) {
    const float* wm = w + (int64_t)m * w_dims->c;
    float acc = bias ? bias[m] : 0.0f;
    for (n = 0; n < w_dims->c; ++n) acc += wm[n] * in[n];
    out[m] = relu_f32(acc, p->relu);
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
#if defined(PPGKD_FAST_DSP)
  /* The DSP kernel (dense_s8_fast.c), bit-identical. */
  ppgkd_dense_s8_fast(act, q, w_dims->c, in, w_dims->n, w, bias, out);
  return PPGKD_OK;
#elif defined(PPGKD_FAST_AVX2)
  /* The AVX2 kernel (dense_s8_fast.c), bit-identical, up to its stack limit. */
  if (w_dims->c <= PPGKD_AVX2_DENSE_MAX_N) {
    ppgkd_dense_s8_fast(act, q, w_dims->c, in, w_dims->n, w, bias, out);
    return PPGKD_OK;
  }
#endif
  /* The accumulators cannot overflow: ppgkd_s8_accumulator_fits. */
  for (m = 0; m + ROWS <= w_dims->n; m += ROWS) {
    int32_t acc[ROWS];
    int32_t r;
    for (r = 0; r < ROWS; ++r) acc[r] = bias ? bias[m + r] : 0;
    rows4_s8(in, w + (int64_t)m * w_dims->c, w_dims->c, act->in_zp, acc);
    for (r = 0; r < ROWS; ++r) {
      out[m + r] = output_s8(acc[r], ppgkd_channel_quant(q, m + r), act);
    }
  }
  for (; m < w_dims->n; ++m) {
    const int8_t* wm = w + (int64_t)m * w_dims->c;
    int32_t acc = bias ? bias[m] : 0;
    for (n = 0; n < w_dims->c; ++n) acc += (int32_t)wm[n] * ((int32_t)in[n] - act->in_zp);
    out[m] = output_s8(acc, ppgkd_channel_quant(q, m), act);
  }
  return PPGKD_OK;
}
