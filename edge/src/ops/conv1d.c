/* conv1d.c — 1-D convolution (stride, zero padding, dilation, bias, fused ReLU), f32 and int8.
 * Shapes: (C_in, L_in) -> (C_out, L_out); see ppgkd_edge_ops.h for every parameter's layout,
 * dtype and range.
 *
 * The specification is the plain loop (the copy in edge/tests/test_ops.c is the reference the
 * tests compare against, bit for bit):
 *     for co, t:  acc = bias[co]
 *                 for ci, k:  pos = t * stride - padding + k * dilation
 *                             if 0 <= pos < L_in:  acc += w[co, ci, k] * x[ci, pos]
 * These kernels give exactly its results, only with fewer instructions:
 *   - Tap ranges instead of bounds checks. pos grows with k, so the taps of output t that the
 *     check accepts are one range k_lo <= k < k_hi (tap_range). An output whose taps all fall
 *     inside the input (interior_range: t_lo <= t < t_hi) has the full range 0..K.
 *   - Register tiles, in two passes over the output. (1) The interior in 2 x 4 tiles: two output
 *     channels at four consecutive positions, so one input load feeds two weights and one
 *     weight load feeds four inputs; an odd last channel is computed as a pair with itself and
 *     stored once. (2) Every other position (the borders, and interior positions left over from
 *     the groups of four) in 4 x 1 columns: four output channels at one position over its tap
 *     range, one input load for four weights (1 x 1 for the C_out % 4 channels left over).
 *   - K = 1 (the shortcut convolutions): the loops over C_in channels of one tap each become one
 *     loop over C_in taps (tap_loops); the same terms in the same order.
 *   - f32: each accumulator starts at its bias and adds w * x term by term in the reference
 *     order (ci outer, k inner), skipping the same taps, so every output is bit-identical to
 *     the reference: the tiles only interleave independent sums. No reassociation, no FMA
 *     contraction (edge/ is built with -ffp-contract=off).
 *   - int8: the int32 sum is exact, so any order gives the same result. In the interior the
 *     input zero point leaves the inner loop: sum w * (x - zp) = sum w * x - zp * sum w, with
 *     sum w per output channel computed once. No partial sum overflows int32 either: each equals
 *     bias + sum over some taps of w * (x - zp) - zp * (sum of the others' w), every term at
 *     most 127 * 255 in magnitude, within the bound ppgkd_s8_accumulator_fits guarantees.
 *     The columns keep the per-tap form w * (x - zp).
 * Stride 1 and 2 (all the ResNets use) get their own copies of the tile, where the four inputs
 * of a tap sit at constant offsets; other strides share a generic copy. No scratch memory. */
#include "ppgkd_edge_ops.h"
#include "simd.h"

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

/* ------------------------------------------------------------------ geometry */

/* Output positions per tile of the interior (TILE_T) and output channels per tile (2). */
#define TILE_T 4

/* The interior [*t_lo, *t_hi): the outputs whose taps all fall inside the input,
 * 0 <= t * stride - padding and t * stride - padding + dilation * (K - 1) <= L_in - 1.
 * The left border is [0, t_lo), the right border [t_hi, L_out); with no interior output
 * t_lo = t_hi. Computed in 64 bits: nothing here can overflow. */
static void interior_range(const ppgkd_conv1d_params* p, int32_t l_in, int32_t kk, int32_t l_out,
                           int32_t* t_lo, int32_t* t_hi) {
  const int64_t span = (int64_t)p->dilation * (kk - 1) + 1;
  const int64_t last = (int64_t)l_in - span + p->padding; /* interior: t * stride <= last */
  int64_t lo = ((int64_t)p->padding + p->stride - 1) / p->stride;
  int64_t hi = last < 0 ? 0 : last / p->stride + 1;
  if (lo > l_out) lo = l_out;
  if (hi > l_out) hi = l_out;
  if (hi < lo) hi = lo;
  *t_lo = (int32_t)lo;
  *t_hi = (int32_t)hi;
}

/* The taps k of an output whose first tap is at `start` (may be negative) that fall inside the
 * input, 0 <= start + k * dilation < L_in: k_lo <= k < k_hi (k_lo = k_hi when none does). These
 * are exactly the taps the reference's bounds check accepts. */
static void tap_range(int64_t start, int32_t l_in, int32_t kk, int32_t dil, int32_t* k_lo,
                      int32_t* k_hi) {
  int64_t lo = start < 0 ? (-start + dil - 1) / dil : 0;
  int64_t hi = start >= l_in ? 0 : (l_in - 1 - start) / dil + 1;
  if (hi > kk) hi = kk;
  if (lo > hi) lo = hi;
  *k_lo = (int32_t)lo;
  *k_hi = (int32_t)hi;
}

/* How the tap loops run: n_ch input channels of n_k taps each, tap k of channel c at
 * x[c * L_in + k * step] with weight w[c * n_k + k] (per output channel). Normally that is
 * (C_in, K, dilation). With K = 1 (the ResNets' shortcut convolutions) the same terms in the same
 * order are one channel of C_in taps with step L_in: one loop of C_in terms instead of C_in
 * loops of one term each. */
typedef struct {
  int32_t n_ch, n_k, step;
} tap_loops;

static tap_loops tap_loops_for(int32_t c_in, int32_t l_in, int32_t kk, int32_t dil) {
  tap_loops tl;
  tl.n_ch = kk == 1 ? 1 : c_in;
  tl.n_k = kk == 1 ? c_in : kk;
  tl.step = kk == 1 ? l_in : dil;
  return tl;
}

/* ------------------------------------------------------------------ f32 */

/* 2 x 4 interior tile: output channels w0, w1 (w1 may equal w0) at the four output positions
 * whose first taps are x[0], x[stride], x[2 * stride], x[3 * stride]. The taps run as tap_loops
 * describes (c_in, kk, dil = its n_ch, n_k, step). acc[j] (channel w0) and acc[4 + j] (channel
 * w1) hold the bias on entry and the sums on return; each adds its terms in the reference
 * order. */
static inline void tile_2x4_f32(const float* restrict x, int32_t l_in, const float* restrict w0,
                                const float* restrict w1, int32_t c_in, int32_t kk, int32_t stride,
                                int32_t dil, float* restrict acc) {
  float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  float b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, x += l_in, w0 += kk, w1 += kk) {
    const float* xk = x;
    for (k = 0; k < kk; ++k, xk += dil) {
      const float v = w0[k], u = w1[k];
      const float x0 = xk[0], x1 = xk[stride], x2 = xk[2 * stride], x3 = xk[3 * stride];
      a0 += v * x0, a1 += v * x1, a2 += v * x2, a3 += v * x3;
      b0 += u * x0, b1 += u * x1, b2 += u * x2, b3 += u * x3;
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3;
}

/* Copies with the stride a constant, 1 or 2 (the four loads of a tap at fixed offsets). The
 * dilation stays a variable on purpose: with it a constant 1 too, GCC reuses inputs across taps
 * in registers and runs out of them (spills in the inner loop, slower on the Cortex-M4). */
static void tile_2x4_f32_s1(const float* x, int32_t l_in, const float* w0, const float* w1,
                            int32_t c_in, int32_t kk, int32_t dil, float* acc) {
  tile_2x4_f32(x, l_in, w0, w1, c_in, kk, 1, dil, acc);
}
static void tile_2x4_f32_s2(const float* x, int32_t l_in, const float* w0, const float* w1,
                            int32_t c_in, int32_t kk, int32_t dil, float* acc) {
  tile_2x4_f32(x, l_in, w0, w1, c_in, kk, 2, dil, acc);
}

/* 4 x 1 column: output channels w, w + w_step, w + 2 * w_step, w + 3 * w_step at one output
 * position over n_taps >= 1 taps per channel (its k_lo <= k < k_hi): x is the input at the first
 * of them (input channel 0), w points at tap k_lo of input channel 0; c_in, kk, dil as in the
 * tile. acc[i] holds the bias on entry and the sum on return; terms added in the reference
 * order. */
static void col_4x1_f32(const float* restrict x, int32_t l_in, const float* restrict w,
                        int64_t w_step, int32_t c_in, int32_t kk, int32_t n_taps, int32_t dil,
                        float* restrict acc) {
  const float* w0 = w;
  const float* w1 = w0 + w_step;
  const float* w2 = w1 + w_step;
  const float* w3 = w2 + w_step;
  float a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, x += l_in, w0 += kk, w1 += kk, w2 += kk, w3 += kk) {
    const float* xk = x;
    for (k = 0; k < n_taps; ++k, xk += dil) {
      const float xv = *xk;
      a0 += w0[k] * xv, a1 += w1[k] * xv, a2 += w2[k] * xv, a3 += w3[k] * xv;
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* 1 x 1 column: as col_4x1_f32 for one output channel (the C_out % 4 left over). */
static float col_1x1_f32(const float* restrict x, int32_t l_in, const float* restrict w,
                         int32_t c_in, int32_t kk, int32_t n_taps, int32_t dil, float acc) {
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, x += l_in, w += kk) {
    const float* xk = x;
    for (k = 0; k < n_taps; ++k, xk += dil) acc += w[k] * *xk;
  }
  return acc;
}

static float relu_f32(float acc, int32_t relu) {
  return relu && acc < 0.0f ? 0.0f : acc;
}

/* Every output position outside the tiles [t_tiles, t_end), all output channels, in 4 x 1
 * columns (1 x 1 for the C_out % 4 left over). Each position computes its tap range once for all
 * channels. */
static void columns_f32(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in, const float* in,
                        int32_t c_out, int32_t kk, const float* w, const float* bias, int32_t l_out,
                        float* out, int32_t t_tiles, int32_t t_end) {
  const int64_t w_step = (int64_t)c_in * kk;
  const tap_loops tl = tap_loops_for(c_in, l_in, kk, p->dilation);
  int32_t t, co, j;
  for (t = t_tiles > 0 ? 0 : t_end; t < l_out; t = t + 1 == t_tiles ? t_end : t + 1) {
    const int64_t start = (int64_t)t * p->stride - p->padding; /* first tap, may be < 0 */
    const float* x = in; /* the first tap inside the input, when there is one */
    int32_t k_lo, k_hi, n_taps;
    tap_range(start, l_in, kk, p->dilation, &k_lo, &k_hi);
    if (k_hi > k_lo) x = in + (start + (int64_t)k_lo * p->dilation);
    n_taps = kk == 1 ? (k_hi - k_lo) * c_in : k_hi - k_lo; /* per loop channel (tap_loops) */
    for (co = 0; co + 4 <= c_out; co += 4) {
      float acc[4];
      for (j = 0; j < 4; ++j) acc[j] = bias ? bias[co + j] : 0.0f;
      if (n_taps > 0) {
        col_4x1_f32(x, l_in, w + co * w_step + k_lo, w_step, tl.n_ch, tl.n_k, n_taps, tl.step, acc);
      }
      for (j = 0; j < 4; ++j) out[(int64_t)(co + j) * l_out + t] = relu_f32(acc[j], p->relu);
    }
    for (; co < c_out; ++co) {
      float acc = bias ? bias[co] : 0.0f;
      if (n_taps > 0) {
        acc = col_1x1_f32(x, l_in, w + co * w_step + k_lo, tl.n_ch, tl.n_k, n_taps, tl.step, acc);
      }
      out[(int64_t)co * l_out + t] = relu_f32(acc, p->relu);
    }
  }
}

ppgkd_status ppgkd_conv1d_f32(const ppgkd_context* ctx, const ppgkd_conv1d_params* p,
                              const ppgkd_dims* in_dims, const float* in, const ppgkd_dims* w_dims,
                              const float* w, const ppgkd_dims* bias_dims, const float* bias,
                              const ppgkd_dims* out_dims, float* out) {
  int32_t co, t, j;
  (void)ctx;
  if (!in || !w || !out) return PPGKD_ERR_ARG;
  if (!conv_dims_ok(p, in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
#ifdef PPGKD_FAST_AVX2
  /* The AVX2 + FMA kernel (conv1d_f32_fast.c): within a stated tolerance, not bit-identical. */
  if (ppgkd_conv1d_f32_fast(p, in_dims->c, in_dims->l, in, w_dims->n, w_dims->l, w, bias,
                            out_dims->l, out)) {
    return PPGKD_OK;
  }
#endif
  {
    const int32_t c_in = in_dims->c, l_in = in_dims->l;
    const int32_t c_out = w_dims->n, kk = w_dims->l, l_out = out_dims->l;
    const int32_t stride = p->stride;
    const int64_t w_step = (int64_t)c_in * kk; /* weights of one output channel */
    const tap_loops tl = tap_loops_for(c_in, l_in, kk, p->dilation);
    int32_t t_lo, t_hi, t_end;
    interior_range(p, l_in, kk, l_out, &t_lo, &t_hi);
    t_end = t_lo + (t_hi - t_lo) / TILE_T * TILE_T; /* tiles cover [t_lo, t_end) */
    /* The interior in 2 x 4 tiles. */
    for (co = 0; co < c_out && t_end > t_lo; co += 2) {
      const int pair = co + 1 < c_out; /* else the last channel, paired with itself */
      const float* w0 = w + (int64_t)co * w_step;
      const float* w1 = pair ? w0 + w_step : w0;
      const float bias0 = bias ? bias[co] : 0.0f, bias1 = bias ? bias[co + pair] : 0.0f;
      float* y0 = out + (int64_t)co * l_out;
      float* y1 = y0 + l_out; /* written only for a pair */
      for (t = t_lo; t < t_end; t += TILE_T) {
        const float* x = in + ((int64_t)t * stride - p->padding);
        float acc[2 * TILE_T];
        for (j = 0; j < TILE_T; ++j) acc[j] = bias0, acc[TILE_T + j] = bias1;
        if (stride == 1) {
          tile_2x4_f32_s1(x, l_in, w0, w1, tl.n_ch, tl.n_k, tl.step, acc);
        } else if (stride == 2) {
          tile_2x4_f32_s2(x, l_in, w0, w1, tl.n_ch, tl.n_k, tl.step, acc);
        } else {
          tile_2x4_f32(x, l_in, w0, w1, tl.n_ch, tl.n_k, stride, tl.step, acc);
        }
        for (j = 0; j < TILE_T; ++j) {
          y0[t + j] = relu_f32(acc[j], p->relu);
          if (pair) y1[t + j] = relu_f32(acc[TILE_T + j], p->relu);
        }
      }
    }
    /* Every other position: the borders and the interior left over, in 4 x 1 columns. */
    columns_f32(p, c_in, l_in, in, c_out, kk, w, bias, l_out, out, t_lo, t_end);
  }
  return PPGKD_OK;
}

/* ------------------------------------------------------------------ int8 */

/* 2 x 4 interior tile, int8: as tile_2x4_f32 but sums w * x only (the zero point is folded into
 * the accumulators' initial values by the caller). */
static inline void tile_2x4_s8(const int8_t* restrict x, int32_t l_in, const int8_t* restrict w0,
                               const int8_t* restrict w1, int32_t c_in, int32_t kk, int32_t stride,
                               int32_t dil, int32_t* restrict acc) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, x += l_in, w0 += kk, w1 += kk) {
    const int8_t* xk = x;
    for (k = 0; k < kk; ++k, xk += dil) {
      const int32_t v = w0[k], u = w1[k];
      const int32_t x0 = xk[0], x1 = xk[stride], x2 = xk[2 * stride], x3 = xk[3 * stride];
      a0 += v * x0, a1 += v * x1, a2 += v * x2, a3 += v * x3;
      b0 += u * x0, b1 += u * x1, b2 += u * x2, b3 += u * x3;
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3;
}

static void tile_2x4_s8_s1(const int8_t* x, int32_t l_in, const int8_t* w0, const int8_t* w1,
                           int32_t c_in, int32_t kk, int32_t dil, int32_t* acc) {
  tile_2x4_s8(x, l_in, w0, w1, c_in, kk, 1, dil, acc);
}
static void tile_2x4_s8_s2(const int8_t* x, int32_t l_in, const int8_t* w0, const int8_t* w1,
                           int32_t c_in, int32_t kk, int32_t dil, int32_t* acc) {
  tile_2x4_s8(x, l_in, w0, w1, c_in, kk, 2, dil, acc);
}

/* 4 x 1 column, int8: as col_4x1_f32, summing w * (x - in_zp) per tap (x - in_zp once for the
 * four channels). */
static void col_4x1_s8(const int8_t* restrict x, int32_t l_in, const int8_t* restrict w,
                       int64_t w_step, int32_t c_in, int32_t kk, int32_t n_taps, int32_t dil,
                       int32_t in_zp, int32_t* restrict acc) {
  const int8_t* w0 = w;
  const int8_t* w1 = w0 + w_step;
  const int8_t* w2 = w1 + w_step;
  const int8_t* w3 = w2 + w_step;
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, x += l_in, w0 += kk, w1 += kk, w2 += kk, w3 += kk) {
    const int8_t* xk = x;
    for (k = 0; k < n_taps; ++k, xk += dil) {
      const int32_t xv = (int32_t)*xk - in_zp;
      a0 += w0[k] * xv, a1 += w1[k] * xv, a2 += w2[k] * xv, a3 += w3[k] * xv;
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* 1 x 1 column, int8: as col_4x1_s8 for one output channel. */
static int32_t col_1x1_s8(const int8_t* restrict x, int32_t l_in, const int8_t* restrict w,
                          int32_t c_in, int32_t kk, int32_t n_taps, int32_t dil, int32_t in_zp,
                          int32_t acc) {
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, x += l_in, w += kk) {
    const int8_t* xk = x;
    for (k = 0; k < n_taps; ++k, xk += dil) acc += w[k] * ((int32_t)*xk - in_zp);
  }
  return acc;
}

/* Sum of one output channel's C_in * K weights (|sum| <= 127 * C_in * K, fits easily). */
static int32_t weight_sum_s8(const int8_t* restrict w, int64_t n) {
  const int8_t* const end = w + n;
  int32_t s = 0;
  while (w < end) s += *w++;
  return s;
}

/* y = clamp(requantize(acc) + out_zp, act_min, act_max). */
static int8_t output_s8(int32_t acc, ppgkd_quant rq, const ppgkd_s8_act* act) {
  /* the requantised value is saturated to int32; adding a zero point in 64 bits cannot overflow */
  int64_t v = (int64_t)ppgkd_requantize(acc, rq.multiplier, rq.shift) + act->out_zp;
  if (v < act->act_min) v = act->act_min;
  if (v > act->act_max) v = act->act_max;
  return (int8_t)v;
}

/* As columns_f32, int8: every position outside the tiles [t_tiles, t_end), all channels. */
static void columns_s8(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                       const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                       const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                       const int32_t* bias, int32_t l_out, int8_t* out, int32_t t_tiles,
                       int32_t t_end) {
  const int64_t w_step = (int64_t)c_in * kk;
  const tap_loops tl = tap_loops_for(c_in, l_in, kk, p->dilation);
  int32_t t, co, j;
  for (t = t_tiles > 0 ? 0 : t_end; t < l_out; t = t + 1 == t_tiles ? t_end : t + 1) {
    const int64_t start = (int64_t)t * p->stride - p->padding; /* first tap, may be < 0 */
    const int8_t* x = in; /* the first tap inside the input, when there is one */
    int32_t k_lo, k_hi, n_taps;
    tap_range(start, l_in, kk, p->dilation, &k_lo, &k_hi);
    if (k_hi > k_lo) x = in + (start + (int64_t)k_lo * p->dilation);
    n_taps = kk == 1 ? (k_hi - k_lo) * c_in : k_hi - k_lo; /* per loop channel (tap_loops) */
    for (co = 0; co + 4 <= c_out; co += 4) {
      int32_t acc[4];
      for (j = 0; j < 4; ++j) acc[j] = bias ? bias[co + j] : 0;
      if (n_taps > 0) {
        col_4x1_s8(x, l_in, w + co * w_step + k_lo, w_step, tl.n_ch, tl.n_k, n_taps, tl.step,
                   act->in_zp, acc);
      }
      for (j = 0; j < 4; ++j) {
        out[(int64_t)(co + j) * l_out + t] = output_s8(acc[j], ppgkd_channel_quant(q, co + j), act);
      }
    }
    for (; co < c_out; ++co) {
      int32_t acc = bias ? bias[co] : 0;
      if (n_taps > 0) {
        acc = col_1x1_s8(x, l_in, w + co * w_step + k_lo, tl.n_ch, tl.n_k, n_taps, tl.step,
                         act->in_zp, acc);
      }
      out[(int64_t)co * l_out + t] = output_s8(acc, ppgkd_channel_quant(q, co), act);
    }
  }
}

ppgkd_status ppgkd_conv1d_s8(const ppgkd_context* ctx, const ppgkd_conv1d_params* p,
                             const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                             const ppgkd_dims* in_dims, const int8_t* in, const ppgkd_dims* w_dims,
                             const int8_t* w, const ppgkd_dims* bias_dims, const int32_t* bias,
                             const ppgkd_dims* out_dims, int8_t* out) {
  int32_t co, t, j;
  (void)ctx; /* scratch: the DSP kernels' */
  if (!in || !w || !out || !act || !q || !q->multiplier || !q->shift) return PPGKD_ERR_ARG;
  if (!conv_dims_ok(p, in_dims, w_dims, bias_dims, out_dims, bias != 0)) return PPGKD_ERR_SHAPE;
#if defined(PPGKD_FAST_DSP) || defined(PPGKD_FAST_AVX2)
  /* The DSP or AVX2 kernel (conv1d_s8_fast.c) when it takes this shape (the DSP kernel only with
   * ppgkd_conv1d_s8_scratch_bytes of ctx scratch); bit-identical. */
  if (ppgkd_conv1d_s8_fast(p, act, q, in_dims->c, in_dims->l, in, w_dims->n, w_dims->l, w, bias,
                           out_dims->l, out, ctx ? ctx->buf : 0, ctx ? ctx->size : 0)) {
    return PPGKD_OK;
  }
#endif
  {
    const int32_t c_in = in_dims->c, l_in = in_dims->l;
    const int32_t c_out = w_dims->n, kk = w_dims->l, l_out = out_dims->l;
    const int32_t stride = p->stride, in_zp = act->in_zp;
    const int64_t w_step = (int64_t)c_in * kk; /* weights of one output channel */
    const tap_loops tl = tap_loops_for(c_in, l_in, kk, p->dilation);
    int32_t t_lo, t_hi, t_end;
    interior_range(p, l_in, kk, l_out, &t_lo, &t_hi);
    t_end = t_lo + (t_hi - t_lo) / TILE_T * TILE_T; /* tiles cover [t_lo, t_end) */
    /* The interior in 2 x 4 tiles, the zero point folded into the initial values. The
     * accumulators cannot overflow: ppgkd_s8_accumulator_fits (see the top of this file). */
    for (co = 0; co < c_out && t_end > t_lo; co += 2) {
      const int pair = co + 1 < c_out; /* else the last channel, paired with itself */
      const int32_t c1 = co + pair;
      const int8_t* w0 = w + (int64_t)co * w_step;
      const int8_t* w1 = pair ? w0 + w_step : w0;
      const int32_t init0 = (bias ? bias[co] : 0) - in_zp * weight_sum_s8(w0, w_step);
      const int32_t init1 = (bias ? bias[c1] : 0) - in_zp * weight_sum_s8(w1, w_step);
      int8_t* y0 = out + (int64_t)co * l_out;
      int8_t* y1 = y0 + l_out; /* written only for a pair */
      const ppgkd_quant rq0 = ppgkd_channel_quant(q, co), rq1 = ppgkd_channel_quant(q, c1);
      for (t = t_lo; t < t_end; t += TILE_T) {
        const int8_t* x = in + ((int64_t)t * stride - p->padding);
        int32_t acc[2 * TILE_T];
        for (j = 0; j < TILE_T; ++j) acc[j] = init0, acc[TILE_T + j] = init1;
        if (stride == 1) {
          tile_2x4_s8_s1(x, l_in, w0, w1, tl.n_ch, tl.n_k, tl.step, acc);
        } else if (stride == 2) {
          tile_2x4_s8_s2(x, l_in, w0, w1, tl.n_ch, tl.n_k, tl.step, acc);
        } else {
          tile_2x4_s8(x, l_in, w0, w1, tl.n_ch, tl.n_k, stride, tl.step, acc);
        }
        for (j = 0; j < TILE_T; ++j) {
          y0[t + j] = output_s8(acc[j], rq0, act);
          if (pair) y1[t + j] = output_s8(acc[TILE_T + j], rq1, act);
        }
      }
    }
    /* Every other position: the borders and the interior left over, in 4 x 1 columns. */
    columns_s8(p, act, q, c_in, l_in, in, c_out, kk, w, bias, l_out, out, t_lo, t_end);
  }
  return PPGKD_OK;
}
