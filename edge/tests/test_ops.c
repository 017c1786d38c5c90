/* test_ops.c — every kernel against values computed by hand (the arithmetic is written out in
 * the comments), including requantisation rounding, negative values and saturation, decoding a
 * hand-made posterior, the preprocessing helpers and the runtime's own exp and log (against
 * libm in double). The optimised conv1d and dense kernels are also compared with the plain
 * reference loops (copied below) on random shapes: exactly in int8, bit for bit in f32 (in an
 * AVX2 + FMA build within the bound src/ops/conv1d_f32_fast.c derives). The same tests run in
 * every build of the kernels: portable, Arm DSP (on the M4 under qemu, and on the host over the
 * portable emulation of SXTB16/SMLAD, -DPPGKD_EMULATE_DSP) and AVX2, so each fast path is
 * checked against the plain loops. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../src/nolibm_math.h" /* internal: no include path, so relative to this file */
#include "../src/ops/simd.h"    /* internal: which fast kernels this build compiles */
#include "micro_test.h"
#include "ppgkd_edge_ops.h"
#include "tests.h"

/* The kernels' scratch, as the graph passes the arena's: enough for any DSP kernel shape
 * (ppgkd_conv1d_s8_scratch_bytes is at most 4 kB + 4 kB + 1 kB + 4 bytes). */
static uint64_t scratch_buf[10 * 1024 / 8];
static const ppgkd_context ctx = {scratch_buf, sizeof scratch_buf};

static ppgkd_dims dims(int32_t n, int32_t c, int32_t l) {
  ppgkd_dims d;
  d.n = n, d.c = c, d.l = l;
  return d;
}

/* ------------------------------------------------------------------ f32 kernels */

static void test_conv1d_f32_stride_padding_dilation(void) {
  /* x = 1..6, w = [1, 2, -1], bias 0.5, stride 2, padding 1, dilation 2:
   * span 5, L_out = (6 + 2 - 5) / 2 + 1 = 2.
   * t=0 reads x[-1]=0 (pad), x[1]=2, x[3]=4: 0 + 4 - 4 + 0.5 = 0.5
   * t=1 reads x[1]=2, x[3]=4, x[5]=6:       2 + 8 - 6 + 0.5 = 4.5 */
  const float x[6] = {1, 2, 3, 4, 5, 6}, w[3] = {1, 2, -1}, b[1] = {0.5f};
  float y[2] = {0, 0};
  const ppgkd_conv1d_params p = {2, 1, 2, 0};
  const ppgkd_dims di = dims(1, 1, 6), dw = dims(1, 1, 3), db = dims(1, 1, 1), dout = dims(1, 1, 2);
  EXPECT_EQ_INT(2, ppgkd_conv1d_out_length(6, 3, &p));
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_f32(&ctx, &p, &di, x, &dw, w, &db, b, &dout, y));
  EXPECT_NEAR(0.5, y[0], 1e-6);
  EXPECT_NEAR(4.5, y[1], 1e-6);
}

static void test_conv1d_f32_channels_relu(void) {
  /* x = [[1,2,3],[0,1,-1]], w0 = [[1,1],[0,2]], w1 = [[-1,0],[1,1]], b = [0,1], k=2, no pad:
   * co0: t0 = 1+2 + 0+2 = 5, t1 = 2+3 + 0-2 = 3
   * co1: t0 = -1+0 + 0+1 + 1 = 1, t1 = -2+0 + 1-1 + 1 = -1 -> ReLU 0 */
  const float x[6] = {1, 2, 3, 0, 1, -1}, w[8] = {1, 1, 0, 2, -1, 0, 1, 1}, b[2] = {0, 1};
  float y[4];
  const ppgkd_conv1d_params p = {1, 0, 1, 1};
  const ppgkd_dims di = dims(1, 2, 3), dw = dims(2, 2, 2), db = dims(2, 1, 1), dout = dims(1, 2, 2);
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_f32(&ctx, &p, &di, x, &dw, w, &db, b, &dout, y));
  EXPECT_NEAR(5, y[0], 1e-6);
  EXPECT_NEAR(3, y[1], 1e-6);
  EXPECT_NEAR(1, y[2], 1e-6);
  EXPECT_NEAR(0, y[3], 1e-6);
}

static void test_conv1d_rejects_bad_dims(void) {
  const float x[6] = {0}, w[8] = {0};
  float y[4];
  const ppgkd_conv1d_params p = {1, 0, 1, 0};
  const ppgkd_dims di = dims(1, 2, 3), dw = dims(2, 3, 2), dout = dims(1, 2, 2);
  const ppgkd_dims dw_ok = dims(2, 2, 2), dout_bad = dims(1, 2, 3);
  EXPECT_STATUS(PPGKD_ERR_SHAPE, ppgkd_conv1d_f32(&ctx, &p, &di, x, &dw, w, 0, 0, &dout, y));
  EXPECT_STATUS(PPGKD_ERR_SHAPE, ppgkd_conv1d_f32(&ctx, &p, &di, x, &dw_ok, w, 0, 0, &dout_bad, y));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_conv1d_f32(&ctx, &p, &di, 0, &dw_ok, w, 0, 0, &dout, y));
}

static void test_dense_f32(void) {
  /* [1,2,3] . [1,0,-1] + 0.5 = -1.5; [1,2,3] . [2,1,0] - 10 = -6; with ReLU both 0. */
  const float x[3] = {1, 2, 3}, w[6] = {1, 0, -1, 2, 1, 0}, b[2] = {0.5f, -10};
  float y[2];
  ppgkd_dense_params p = {0};
  const ppgkd_dims di = dims(1, 3, 1), dw = dims(2, 3, 1), db = dims(2, 1, 1), dout = dims(1, 2, 1);
  EXPECT_STATUS(PPGKD_OK, ppgkd_dense_f32(&ctx, &p, &di, x, &dw, w, &db, b, &dout, y));
  EXPECT_NEAR(-1.5, y[0], 1e-6);
  EXPECT_NEAR(-6, y[1], 1e-6);
  p.relu = 1;
  EXPECT_STATUS(PPGKD_OK, ppgkd_dense_f32(&ctx, &p, &di, x, &dw, w, &db, b, &dout, y));
  EXPECT_NEAR(0, y[0], 0);
  EXPECT_NEAR(0, y[1], 0);
}

static void test_avg_pool1d_f32(void) {
  /* [[1,2,3,4,5],[0,0,6,6,6]]: kernel 2 stride 2 -> L_out 2: [[1.5,3.5],[0,6]];
   * global (kernel 5) -> [3, 3.6]. */
  const float x[10] = {1, 2, 3, 4, 5, 0, 0, 6, 6, 6};
  float y[4];
  ppgkd_pool_params p = {2, 2};
  const ppgkd_dims di = dims(1, 2, 5), d2 = dims(1, 2, 2), d1 = dims(1, 2, 1);
  EXPECT_STATUS(PPGKD_OK, ppgkd_avg_pool1d_f32(&ctx, &p, &di, x, &d2, y));
  EXPECT_NEAR(1.5, y[0], 1e-6);
  EXPECT_NEAR(3.5, y[1], 1e-6);
  EXPECT_NEAR(0, y[2], 1e-6);
  EXPECT_NEAR(6, y[3], 1e-6);
  p.kernel = 5, p.stride = 1;
  EXPECT_STATUS(PPGKD_OK, ppgkd_avg_pool1d_f32(&ctx, &p, &di, x, &d1, y));
  EXPECT_NEAR(3, y[0], 1e-6);
  EXPECT_NEAR(3.6, y[1], 1e-6);
  EXPECT_STATUS(PPGKD_ERR_SHAPE, ppgkd_avg_pool1d_f32(&ctx, &p, &di, x, &d2, y));
}

static void test_add_relu_f32(void) {
  const float a[3] = {1, -2, 3}, b[3] = {0.5f, 1, -4}, r[3] = {-1, 0, 2};
  float y[3];
  ppgkd_add_params p = {0};
  const ppgkd_dims d = dims(1, 3, 1), d_bad = dims(1, 1, 3);
  EXPECT_STATUS(PPGKD_OK, ppgkd_add_f32(&ctx, &p, &d, a, &d, b, &d, y));
  EXPECT_NEAR(1.5, y[0], 0);
  EXPECT_NEAR(-1, y[1], 0);
  EXPECT_NEAR(-1, y[2], 0);
  p.relu = 1;
  EXPECT_STATUS(PPGKD_OK, ppgkd_add_f32(&ctx, &p, &d, a, &d, b, &d, y));
  EXPECT_NEAR(1.5, y[0], 0);
  EXPECT_NEAR(0, y[1], 0);
  EXPECT_NEAR(0, y[2], 0);
  EXPECT_STATUS(PPGKD_ERR_SHAPE, ppgkd_add_f32(&ctx, &p, &d, a, &d_bad, b, &d, y));
  EXPECT_STATUS(PPGKD_OK, ppgkd_relu_f32(&ctx, &d, r, &d, y));
  EXPECT_NEAR(0, y[0], 0);
  EXPECT_NEAR(0, y[1], 0);
  EXPECT_NEAR(2, y[2], 0);
}

/* ------------------------------------------------------------------ requantisation */

#define Q_HALF (1 << 30)   /* multiplier 2^30 with shift 0 is 0.5 */
#define Q16_HALF (1 << 15) /* the same as a blob's u16 multiplier (shifted left by 15) */

static void test_requantize_rounding(void) {
  /* 0.5 * x, halves round towards +infinity (CMSIS-NN arm_nn_requantize). */
  EXPECT_EQ_INT(2, ppgkd_requantize(3, Q_HALF, 0));   /* 1.5 -> 2 */
  EXPECT_EQ_INT(-1, ppgkd_requantize(-3, Q_HALF, 0)); /* -1.5 -> -1 */
  EXPECT_EQ_INT(3, ppgkd_requantize(5, Q_HALF, 0));   /* 2.5 -> 3 */
  EXPECT_EQ_INT(-2, ppgkd_requantize(-5, Q_HALF, 0)); /* -2.5 -> -2 */
  EXPECT_EQ_INT(-3, ppgkd_requantize(-6, Q_HALF, 0)); /* exact */
  /* 0.25 * x: -7 * 0.25 = -1.75 -> -2; 7 * 0.25 = 1.75 -> 2 */
  EXPECT_EQ_INT(-2, ppgkd_requantize(-7, Q_HALF, -1));
  EXPECT_EQ_INT(2, ppgkd_requantize(7, Q_HALF, -1));
  /* shift 1: 2^30 * 2^(1-31) = 1: identity, also for negatives */
  EXPECT_EQ_INT(-7, ppgkd_requantize(-7, Q_HALF, 1));
  EXPECT_EQ_INT(123456, ppgkd_requantize(123456, Q_HALF, 1));
}

static void test_requantize_extremes(void) {
  /* (2^31 - 1) * (2^31 - 1) * 2^-1 ~ 2^61: saturates at both ends */
  EXPECT_EQ_INT(INT32_MAX, ppgkd_requantize(INT32_MAX, INT32_MAX, PPGKD_SHIFT_MAX));
  EXPECT_EQ_INT(INT32_MIN, ppgkd_requantize(INT32_MIN, INT32_MAX, PPGKD_SHIFT_MAX));
  /* smallest scale: 2^30 * 2^-62 = 2^-32; INT32_MAX * 2^-32 < 0.5 -> 0, INT32_MIN -> -0.5 -> 0 */
  EXPECT_EQ_INT(0, ppgkd_requantize(INT32_MAX, Q_HALF, PPGKD_SHIFT_MIN));
  EXPECT_EQ_INT(0, ppgkd_requantize(INT32_MIN, Q_HALF, PPGKD_SHIFT_MIN));
  /* INT32_MIN * 0.5 = -2^30 exactly */
  EXPECT_EQ_INT(-1073741824L, ppgkd_requantize(INT32_MIN, Q_HALF, 0));
  EXPECT_EQ_INT(0, ppgkd_requantize(12345, 0, 0));       /* zero multiplier */
  EXPECT_EQ_INT(0, ppgkd_requantize(12345, Q_HALF, 31)); /* shift out of range */
  EXPECT_EQ_INT(0, ppgkd_requantize(12345, -1, 0));      /* negative multiplier */
}

static void test_accumulator_bound(void) {
  /* n * 127 * 255 = n * 32385 <= 2^31 - 1 = 2147483647: 66311 * 32385 = 2147481735 fits,
   * 66312 * 32385 = 2147514120 does not; 1912 of bias headroom remain at n = 66311. */
  EXPECT_EQ_INT(1, ppgkd_s8_accumulator_fits(66311, 0));
  EXPECT_EQ_INT(0, ppgkd_s8_accumulator_fits(66312, 0));
  EXPECT_EQ_INT(1, ppgkd_s8_accumulator_fits(66311, 1912)); /* 2147481735 + 1912 = INT32_MAX */
  EXPECT_EQ_INT(0, ppgkd_s8_accumulator_fits(66311, 1913));
  EXPECT_EQ_INT(0, ppgkd_s8_accumulator_fits(0, 0x80000000u));
  EXPECT_EQ_INT(0, ppgkd_s8_accumulator_fits(0xFFFFFFFFu, 0xFFFFFFFFu));
}

/* ------------------------------------------------------------------ int8 kernels */

static void test_conv1d_s8(void) {
  /* x = [10,-5,3,0], in_zp = -2 -> x - zp = [12,-3,5,2]; w = [2,-1], bias 7, pad 1 -> L_out 5:
   * acc = [-12+7, 24+3+7, -6-5+7, 10-2+7, 4+7] = [-5, 34, -4, 15, 11]
   * * 0.5 rounding half up = [-2, 17, -2, 8, 6]; + out_zp 3 = [1, 20, 1, 11, 9];
   * with ReLU (act_min = out_zp = 3): [3, 20, 3, 11, 9]. */
  const int8_t x[4] = {10, -5, 3, 0}, w[2] = {2, -1};
  const int32_t b[1] = {7};
  const uint16_t mult[1] = {Q16_HALF};
  const int8_t shift[1] = {0};
  const int8_t expect[5] = {1, 20, 1, 11, 9}, expect_relu[5] = {3, 20, 3, 11, 9};
  int8_t y[5];
  int i;
  const ppgkd_conv1d_params p = {1, 1, 1, 0};
  ppgkd_s8_act act = {-2, 3, -128, 127};
  const ppgkd_per_channel_quant q = {mult, shift, 0};
  const ppgkd_dims di = dims(1, 1, 4), dw = dims(1, 1, 2), db = dims(1, 1, 1), dout = dims(1, 1, 5);
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_s8(&ctx, &p, &act, &q, &di, x, &dw, w, &db, b, &dout, y));
  for (i = 0; i < 5; ++i) EXPECT_EQ_INT(expect[i], y[i]);
  act.act_min = 3;
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_s8(&ctx, &p, &act, &q, &di, x, &dw, w, &db, b, &dout, y));
  for (i = 0; i < 5; ++i) EXPECT_EQ_INT(expect_relu[i], y[i]);
}

static void test_conv1d_s8_saturation(void) {
  /* Extremes: x = -128, in_zp = 127 -> x - zp = -255; w = 127 over C_in = 2, K = 1:
   * acc = 2 * 127 * -255 = -64770; * 0.5 = -32385 -> saturates at -128.
   * Channel 1 with w = -127: +32385 -> saturates at 127. */
  const int8_t x[2] = {-128, -128}, w[4] = {127, 127, -127, -127};
  const uint16_t mult[2] = {Q16_HALF, Q16_HALF};
  const int8_t shift[2] = {0, 0};
  int8_t y[2];
  const ppgkd_conv1d_params p = {1, 0, 1, 0};
  const ppgkd_s8_act act = {127, 0, -128, 127};
  const ppgkd_per_channel_quant q = {mult, shift, 0};
  const ppgkd_dims di = dims(1, 2, 1), dw = dims(2, 2, 1), dout = dims(1, 2, 1);
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_s8(&ctx, &p, &act, &q, &di, x, &dw, w, 0, 0, &dout, y));
  EXPECT_EQ_INT(-128, y[0]);
  EXPECT_EQ_INT(127, y[1]);
}

static void test_dense_s8_per_channel(void) {
  /* x = [1,-1,4], in_zp = 1 -> [0,-2,3]; w0 = [3,1,2], b0 = 1, scale 0.5:
   * acc0 = 0 - 2 + 6 + 1 = 5 -> 2.5 -> 3, + out_zp -1 = 2.
   * w1 = [-127,0,127], b1 = -2, scale 0.25 (shift -1): acc1 = 381 - 2 = 379 -> 94.75 -> 95 -> 94.
   */
  const int8_t x[3] = {1, -1, 4}, w[6] = {3, 1, 2, -127, 0, 127};
  const int32_t b[2] = {1, -2};
  const uint16_t mult[2] = {Q16_HALF, Q16_HALF};
  const int8_t shift[2] = {0, -1};
  int8_t y[2];
  const ppgkd_dense_params p = {0};
  const ppgkd_s8_act act = {1, -1, -128, 127};
  const ppgkd_per_channel_quant q = {mult, shift, 0};
  const ppgkd_dims di = dims(1, 3, 1), dw = dims(2, 3, 1), db = dims(2, 1, 1), dout = dims(1, 2, 1);
  EXPECT_STATUS(PPGKD_OK, ppgkd_dense_s8(&ctx, &p, &act, &q, &di, x, &dw, w, &db, b, &dout, y));
  EXPECT_EQ_INT(2, y[0]);
  EXPECT_EQ_INT(94, y[1]);
}

static void test_add_s8(void) {
  /* Both inputs at scale 1, output scale 1: common scale 2, q_a = q_b = 0.5, left shift 20,
   * q_out = 2 / 2^20 = 2^-19 = 2^30 * 2^(-18 - 31). a = [10,-20] (zp 0), b = [5,9] (zp 5):
   * real sums 10 + 0 = 10 and -20 + 4 = -16. a = b = 127 with zp -128: 255 + 255 saturates. */
  const int8_t a[3] = {10, -20, 127}, b[3] = {5, 9, 127};
  int8_t y[3];
  const ppgkd_add_params p = {0};
  ppgkd_s8_act act = {0, 0, -128, 127};
  ppgkd_add_s8_quant q;
  const ppgkd_dims d = dims(1, 2, 1);
  q.a_zp = 0, q.b_zp = 5, q.left_shift = 20;
  q.q_a.multiplier = Q_HALF, q.q_a.shift = 0;
  q.q_b.multiplier = Q_HALF, q.q_b.shift = 0;
  q.q_out.multiplier = Q_HALF, q.q_out.shift = -18;
  EXPECT_STATUS(PPGKD_OK, ppgkd_add_s8(&ctx, &p, &act, &q, &d, a, &d, b, &d, y));
  EXPECT_EQ_INT(10, y[0]);
  EXPECT_EQ_INT(-16, y[1]);
  act.act_min = 0; /* fused ReLU at out_zp 0 */
  EXPECT_STATUS(PPGKD_OK, ppgkd_add_s8(&ctx, &p, &act, &q, &d, a, &d, b, &d, y));
  EXPECT_EQ_INT(10, y[0]);
  EXPECT_EQ_INT(0, y[1]);
  q.a_zp = -128, q.b_zp = -128;
  act.act_min = -128;
  {
    const ppgkd_dims d1 = dims(1, 1, 1);
    EXPECT_STATUS(PPGKD_OK, ppgkd_add_s8(&ctx, &p, &act, &q, &d1, a + 2, &d1, b + 2, &d1, y));
    EXPECT_EQ_INT(127, y[0]);
  }
}

static void test_avg_pool1d_s8(void) {
  /* x = [1,2,3,5], in_zp 1 -> [0,1,2,4]. Global (kernel 4): sum 7 * 0.25 = 1.75 -> 2, + out_zp -3
   * = -1. Kernel 2 stride 2: sums [1, 6] * 0.5 = [0.5 -> 1, 3] -> [-2, 0]. */
  const int8_t x[4] = {1, 2, 3, 5};
  int8_t y[2];
  ppgkd_pool_params p = {4, 1};
  const ppgkd_s8_act act = {1, -3, -128, 127};
  ppgkd_quant q;
  const ppgkd_dims di = dims(1, 1, 4), d1 = dims(1, 1, 1), d2 = dims(1, 1, 2);
  q.multiplier = Q_HALF, q.shift = -1;
  EXPECT_STATUS(PPGKD_OK, ppgkd_avg_pool1d_s8(&ctx, &p, &act, &q, &di, x, &d1, y));
  EXPECT_EQ_INT(-1, y[0]);
  p.kernel = 2, p.stride = 2, q.shift = 0;
  EXPECT_STATUS(PPGKD_OK, ppgkd_avg_pool1d_s8(&ctx, &p, &act, &q, &di, x, &d2, y));
  EXPECT_EQ_INT(-2, y[0]);
  EXPECT_EQ_INT(0, y[1]);
}

static void test_relu_s8(void) {
  const int8_t x[4] = {-10, -5, 0, 100};
  int8_t y[4];
  const ppgkd_dims d = dims(1, 4, 1);
  EXPECT_STATUS(PPGKD_OK, ppgkd_relu_s8(&ctx, -5, &d, x, &d, y));
  EXPECT_EQ_INT(-5, y[0]);
  EXPECT_EQ_INT(-5, y[1]);
  EXPECT_EQ_INT(0, y[2]);
  EXPECT_EQ_INT(100, y[3]);
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_relu_s8(&ctx, 300, &d, x, &d, y));
}

/* ------------------------------------------------------------------ kernels vs reference loops */

/* The reference loops: the bodies of the original plain kernels (the specification the
 * optimised conv1d.c and dense.c must match), without the argument checks. */
static void ref_conv1d_f32(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in,
                           const float* in, int32_t c_out, int32_t kk, const float* w,
                           const float* bias, int32_t l_out, float* out) {
  int32_t co, ci, k, t;
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

static int8_t ref_output_s8(int32_t acc, ppgkd_quant rq, const ppgkd_s8_act* act) {
  int64_t v = (int64_t)ppgkd_requantize(acc, rq.multiplier, rq.shift) + act->out_zp;
  if (v < act->act_min) v = act->act_min;
  if (v > act->act_max) v = act->act_max;
  return (int8_t)v;
}

static void ref_conv1d_s8(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                          const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                          const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                          const int32_t* bias, int32_t l_out, int8_t* out) {
  int32_t co, ci, k, t;
  for (co = 0; co < c_out; ++co) {
    for (t = 0; t < l_out; ++t) {
      int32_t acc = bias ? bias[co] : 0;
      const int32_t start = t * p->stride - p->padding;
      for (ci = 0; ci < c_in; ++ci) {
        const int8_t* x = in + (int64_t)ci * l_in;
        const int8_t* wk = w + ((int64_t)co * c_in + ci) * kk;
        for (k = 0; k < kk; ++k) {
          const int32_t pos = start + k * p->dilation;
          if (pos >= 0 && pos < l_in) acc += (int32_t)wk[k] * ((int32_t)x[pos] - act->in_zp);
        }
      }
      out[(int64_t)co * l_out + t] = ref_output_s8(acc, ppgkd_channel_quant(q, co), act);
    }
  }
}

static void ref_dense_f32(int32_t relu, int32_t n_in, const float* in, int32_t m_out,
                          const float* w, const float* bias, float* out) {
  int32_t m, n;
  for (m = 0; m < m_out; ++m) {
    const float* wm = w + (int64_t)m * n_in;
    float acc = bias ? bias[m] : 0.0f;
    for (n = 0; n < n_in; ++n) acc += wm[n] * in[n];
    if (relu && acc < 0.0f) acc = 0.0f;
    out[m] = acc;
  }
}

static void ref_dense_s8(const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q, int32_t n_in,
                         const int8_t* in, int32_t m_out, const int8_t* w, const int32_t* bias,
                         int8_t* out) {
  int32_t m, n;
  for (m = 0; m < m_out; ++m) {
    const int8_t* wm = w + (int64_t)m * n_in;
    int32_t acc = bias ? bias[m] : 0;
    for (n = 0; n < n_in; ++n) acc += (int32_t)wm[n] * ((int32_t)in[n] - act->in_zp);
    out[m] = ref_output_s8(acc, ppgkd_channel_quant(q, m), act);
  }
}

/* The scale of an f32 output's rounding error: sum over the terms the reference adds of
 * |w * x|, plus |bias| (in double). */
static void ref_conv1d_abs(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in,
                           const float* in, int32_t c_out, int32_t kk, const float* w,
                           const float* bias, int32_t l_out, double* out) {
  int32_t co, ci, k, t;
  for (co = 0; co < c_out; ++co) {
    for (t = 0; t < l_out; ++t) {
      double s = bias ? fabs((double)bias[co]) : 0.0;
      const int32_t start = t * p->stride - p->padding;
      for (ci = 0; ci < c_in; ++ci) {
        for (k = 0; k < kk; ++k) {
          const int32_t pos = start + k * p->dilation;
          if (pos >= 0 && pos < l_in) {
            s += fabs((double)w[((int64_t)co * c_in + ci) * kk + k] * in[(int64_t)ci * l_in + pos]);
          }
        }
      }
      out[(int64_t)co * l_out + t] = s;
    }
  }
}

/* An f32 kernel output y against the reference r, a sum of at most n_terms products and a bias
 * with absolute terms summing to abs_sum. Bit for bit, except in an AVX2 + FMA build: there both
 * are within gamma(n_terms + 1) * abs_sum of the exact sum (gamma(k) = k u / (1 - k u),
 * u = 2^-24; see conv1d_f32_fast.c), so within twice that of each other (ReLU cannot widen it). */
static int f32_agree(float y, float r, int32_t n_terms, double abs_sum) {
#ifdef PPGKD_FAST_AVX2
  const double u = 1.0 / 16777216.0, k = (double)n_terms + 1.0;
  return fabs((double)y - (double)r) <= 2.0 * (k * u / (1.0 - k * u)) * abs_sum;
#else
  (void)n_terms, (void)abs_sum;
  return memcmp(&y, &r, sizeof y) == 0;
#endif
}

/* Uniform integer in lo..hi (test_rng_uniform: deterministic, the same on host and M4). */
static int32_t rand_int(int32_t lo, int32_t hi) {
  const int64_t span = (int64_t)hi - lo + 1; /* in 64 bits: lo..hi may span all of int32 */
  const int64_t v = lo + (int64_t)((test_rng_uniform() + 1.0f) * 0.5f * (float)span);
  return v > hi ? hi : (int32_t)v;
}

/* f32 values in [-1, 1) with exact zeros of both signs mixed in (the kernels must skip padded
 * taps, never add w * 0: -0.0 + +0.0 would turn a -0.0 bias into +0.0). */
static float rand_f32(void) {
  const int32_t r = rand_int(0, 15);
  return r == 0 ? 0.0f : r == 1 ? -0.0f : test_rng_uniform();
}

/* int8 requantisation for a random case of n_terms products. One case in four uses unit scale
 * (multiplier 2^30, shift 1: y = acc + out_zp) with small weights and inputs near the zero point,
 * so a sum that is off by one shows in the output; the others scale the typical |acc|
 * (sqrt(n_terms) * 127/sqrt(3) * 148) to about +-64 (some outputs saturate, most do not). */
typedef struct {
  int unit;               /* 1: unit scale, |w| <= 2, |x - in_zp| <= 3, |bias| <= 20 */
  int32_t mult_lo, shift; /* multipliers in mult_lo..INT32_MAX */
} rt_scale;

static rt_scale rand_scale(int32_t n_terms) {
  rt_scale r;
  int64_t v = (int64_t)(sqrtf((float)n_terms) * 10850.0f / 64.0f);
  int32_t bits = 0;
  r.unit = rand_int(0, 3) == 0;
  while (v > 1) v >>= 1, ++bits;
  r.mult_lo = r.unit ? INT32_C(1) << 30 : (INT32_C(1) << 30) + 1;
  r.shift = r.unit ? 1 : rand_int(-bits - 1, -bits + 1);
  return r;
}

static int8_t rand_x8(const rt_scale* sc, int32_t in_zp) {
  if (sc->unit) {
    const int32_t v = in_zp + rand_int(-3, 3);
    return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
  return (int8_t)rand_int(-128, 127);
}

static int8_t rand_w8(const rt_scale* sc) {
  return (int8_t)(sc->unit ? rand_int(-2, 2) : rand_int(-127, 127));
}

static int32_t rand_b32(const rt_scale* sc) {
  return sc->unit ? rand_int(-20, 20) : rand_int(-100000, 100000);
}

#define RT_C_IN 6
#define RT_C_OUT 7
#define RT_L_IN 40
#define RT_K 7
#define RT_X (RT_C_IN * RT_L_IN)
#define RT_W (RT_C_OUT * RT_C_IN * RT_K)
#define RT_Y (RT_C_OUT * (RT_L_IN + 2 * RT_K))
#define RT_DENSE_N 300
#define RT_DENSE_M 11

static float rt_xf[RT_DENSE_N], rt_wf[RT_DENSE_M * RT_DENSE_N], rt_bf[RT_DENSE_M];
static float rt_yf[RT_Y], rt_rf[RT_Y];
static double rt_abs[RT_Y];
static int8_t rt_x8[RT_DENSE_N], rt_w8[RT_DENSE_M * RT_DENSE_N], rt_y8[RT_Y], rt_r8[RT_Y];
static int32_t rt_b8[RT_DENSE_M];
static uint16_t rt_mult[RT_DENSE_M];
static int8_t rt_shift[RT_DENSE_M];

/* A random conv1d shape: K in {1, 3, 5, 7}, stride 1..3, dilation 1..2, padding 0..K, C_in 1..6,
 * C_out 1..7 (odd and even), L_in 1..40 with one case in four short (L_in <= the receptive
 * field, so most or all outputs are border outputs). Returns L_out >= 1. */
static int32_t rand_conv_shape(ppgkd_conv1d_params* p, int32_t* c_in, int32_t* c_out, int32_t* l_in,
                               int32_t* kk) {
  static const int32_t ks[4] = {1, 3, 5, 7};
  int32_t l_out;
  do {
    int32_t span;
    *kk = ks[rand_int(0, 3)];
    p->stride = rand_int(1, 3);
    p->dilation = rand_int(1, 2);
    p->padding = rand_int(0, *kk);
    p->relu = rand_int(0, 1);
    *c_in = rand_int(1, RT_C_IN);
    *c_out = rand_int(1, RT_C_OUT);
    span = p->dilation * (*kk - 1) + 1;
    *l_in = rand_int(0, 3) == 0 ? rand_int(1, span) : rand_int(1, RT_L_IN);
    l_out = ppgkd_conv1d_out_length(*l_in, *kk, p);
  } while (l_out < 1);
  return l_out;
}

/* Counts which parts of the kernels the random shapes reached: rows with no interior output
 * at all, rows with at least one full interior tile (4 positions), each stride, dilation 2,
 * K = 1 with a tile and K = 1 with padding (the shortcut path), odd C_out. */
typedef struct {
  int all_border, has_tile, stride[4], dilated, k1_tile, k1_padded, odd_c_out;
} rt_coverage;

static void note_coverage(rt_coverage* cov, const ppgkd_conv1d_params* p, int32_t c_out,
                          int32_t l_in, int32_t kk, int32_t l_out) {
  const int32_t span = p->dilation * (kk - 1) + 1;
  int32_t t, interior = 0;
  for (t = 0; t < l_out; ++t) {
    const int32_t start = t * p->stride - p->padding;
    if (start >= 0 && start + span <= l_in) ++interior;
  }
  if (interior == 0) ++cov->all_border;
  if (interior >= 4) ++cov->has_tile;
  ++cov->stride[p->stride];
  if (p->dilation > 1) ++cov->dilated;
  if (kk == 1 && interior >= 4) ++cov->k1_tile;
  if (kk == 1 && p->padding > 0) ++cov->k1_padded;
  if (c_out % 2 == 1) ++cov->odd_c_out;
}

static void check_coverage(const rt_coverage* cov) {
  EXPECT_TRUE(cov->all_border > 10);
  EXPECT_TRUE(cov->has_tile > 10);
  EXPECT_TRUE(cov->stride[1] > 10 && cov->stride[2] > 10 && cov->stride[3] > 10);
  EXPECT_TRUE(cov->dilated > 10);
  EXPECT_TRUE(cov->k1_tile > 10 && cov->k1_padded > 10 && cov->odd_c_out > 10);
}

#define RT_CASES 400

static void test_conv1d_f32_matches_reference(void) {
  rt_coverage cov;
  int n, i, bad, mismatches = 0;
  memset(&cov, 0, sizeof cov);
  test_rng_seed(11);
  for (n = 0; n < RT_CASES; ++n) {
    ppgkd_conv1d_params p;
    int32_t c_in, c_out, l_in, kk, l_out;
    ppgkd_dims di, dw, db, dout;
    int with_bias;
    l_out = rand_conv_shape(&p, &c_in, &c_out, &l_in, &kk);
    note_coverage(&cov, &p, c_out, l_in, kk, l_out);
    with_bias = rand_int(0, 3) != 0;
    for (i = 0; i < c_in * l_in; ++i) rt_xf[i] = rand_f32();
    for (i = 0; i < c_out * c_in * kk; ++i) rt_wf[i] = rand_f32();
    for (i = 0; i < c_out; ++i) rt_bf[i] = rand_f32();
    di = dims(1, c_in, l_in), dw = dims(c_out, c_in, kk), db = dims(c_out, 1, 1);
    dout = dims(1, c_out, l_out);
    memset(rt_yf, 0x55, sizeof rt_yf);
    EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_f32(&ctx, &p, &di, rt_xf, &dw, rt_wf, &db,
                                             with_bias ? rt_bf : 0, &dout, rt_yf));
    ref_conv1d_f32(&p, c_in, l_in, rt_xf, c_out, kk, rt_wf, with_bias ? rt_bf : 0, l_out, rt_rf);
    ref_conv1d_abs(&p, c_in, l_in, rt_xf, c_out, kk, rt_wf, with_bias ? rt_bf : 0, l_out, rt_abs);
    for (i = 0, bad = 0; i < c_out * l_out; ++i) {
      bad += !f32_agree(rt_yf[i], rt_rf[i], c_in * kk, rt_abs[i]);
    }
    if (bad != 0) {
      if (++mismatches <= 3) {
        MT_FAIL(
            "case %d: C_in %ld C_out %ld L_in %ld K %ld stride %ld pad %ld dil %ld: bits differ", n,
            (long)c_in, (long)c_out, (long)l_in, (long)kk, (long)p.stride, (long)p.padding,
            (long)p.dilation);
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  check_coverage(&cov);
}

/* One random int8 convolution case's operands, drawn in a fixed order: zero points (one case in
 * eight symmetric), ReLU through act_min, act_max below 127 in one case in eight when
 * `low_max`, then the input, weights, bias and per-channel requantisation (one case in four
 * per tensor: one entry for every channel). */
static void rand_s8_conv_case(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in,
                              int32_t c_out, int32_t kk, int low_max, rt_scale* sc,
                              ppgkd_s8_act* act, ppgkd_per_channel_quant* q, int8_t* x, int8_t* w,
                              int32_t* b, uint16_t* mult, int8_t* shift) {
  int i;
  *sc = rand_scale(c_in * kk);
  act->in_zp = rand_int(0, 7) == 0 ? 0 : rand_int(-128, 127);
  act->out_zp = sc->unit ? rand_int(-20, 20) : rand_int(-128, 127);
  act->act_min = p->relu ? act->out_zp : -128;
  act->act_max = low_max && rand_int(0, 7) == 0 ? rand_int(act->act_min, 127) : 127;
  for (i = 0; i < c_in * l_in; ++i) x[i] = rand_x8(sc, act->in_zp);
  for (i = 0; i < c_out * c_in * kk; ++i) w[i] = rand_w8(sc);
  for (i = 0; i < c_out; ++i) {
    b[i] = rand_b32(sc);
    mult[i] = (uint16_t)rand_int((sc->mult_lo + 32767) >> PPGKD_RQ_MULT_SHIFT, 65535);
    shift[i] = (int8_t)sc->shift;
  }
  q->multiplier = mult, q->shift = shift;
  q->per_tensor = rand_int(0, 3) == 0;
}

static void test_conv1d_s8_matches_reference(void) {
  rt_coverage cov;
  int n, mismatches = 0;
  memset(&cov, 0, sizeof cov);
  test_rng_seed(12);
  for (n = 0; n < RT_CASES; ++n) {
    ppgkd_conv1d_params p;
    ppgkd_s8_act act;
    ppgkd_per_channel_quant q;
    rt_scale sc;
    int32_t c_in, c_out, l_in, kk, l_out;
    ppgkd_dims di, dw, db, dout;
    int with_bias;
    l_out = rand_conv_shape(&p, &c_in, &c_out, &l_in, &kk);
    note_coverage(&cov, &p, c_out, l_in, kk, l_out);
    with_bias = rand_int(0, 3) != 0;
    rand_s8_conv_case(&p, c_in, l_in, c_out, kk, 0, &sc, &act, &q, rt_x8, rt_w8, rt_b8, rt_mult,
                      rt_shift);
    di = dims(1, c_in, l_in), dw = dims(c_out, c_in, kk), db = dims(c_out, 1, 1);
    dout = dims(1, c_out, l_out);
    memset(rt_y8, 0x55, sizeof rt_y8);
    EXPECT_TRUE(ppgkd_conv1d_s8_scratch_bytes(&p, c_in, c_out, kk, l_out) <= ctx.size);
    EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_s8(&ctx, &p, &act, &q, &di, rt_x8, &dw, rt_w8, &db,
                                            with_bias ? rt_b8 : 0, &dout, rt_y8));
    ref_conv1d_s8(&p, &act, &q, c_in, l_in, rt_x8, c_out, kk, rt_w8, with_bias ? rt_b8 : 0, l_out,
                  rt_r8);
    if (memcmp(rt_y8, rt_r8, (size_t)(c_out * l_out)) != 0) {
      if (++mismatches <= 3) {
        MT_FAIL("case %d: C_in %ld C_out %ld L_in %ld K %ld stride %ld pad %ld dil %ld in_zp %ld",
                n, (long)c_in, (long)c_out, (long)l_in, (long)kk, (long)p.stride, (long)p.padding,
                (long)p.dilation, (long)act.in_zp);
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  check_coverage(&cov);
}

/* Larger int8 shapes, as the ResNet ladder has them and beyond: K 3/5/7, stride 1-2, padding
 * K / 2 (one case in four random 0..K), C_in 1..144, C_out 1..40, L_in 13..200. These reach
 * what the small shapes above cannot: the DSP direct kernel's blocks of output positions (C_in x
 * L_in beyond its 2,048-element input scratch, counted in `blocked`) and layers too wide for its
 * weight scratch (C_in x ceil(K / 2) > 512, counted in `wide`), which take the im2col kernel. */
#define RT_BIG_C_IN 144
#define RT_BIG_C_OUT 40
#define RT_BIG_L_IN 200
#define RT_BIG_CASES 60
static int8_t rt_big_x[RT_BIG_C_IN * RT_BIG_L_IN], rt_big_w[RT_BIG_C_OUT * RT_BIG_C_IN * 7];
static int8_t rt_big_y[RT_BIG_C_OUT * (RT_BIG_L_IN + 14)],
    rt_big_r[RT_BIG_C_OUT * (RT_BIG_L_IN + 14)];
static int32_t rt_big_b[RT_BIG_C_OUT];
static uint16_t rt_big_mult[RT_BIG_C_OUT];
static int8_t rt_big_shift[RT_BIG_C_OUT];

static void test_conv1d_s8_large_matches_reference(void) {
  static const int32_t ks[3] = {3, 5, 7};
  int n, mismatches = 0, blocked = 0, wide = 0;
  size_t need;
  test_rng_seed(15);
  for (n = 0; n < RT_BIG_CASES; ++n) {
    ppgkd_conv1d_params p;
    ppgkd_s8_act act;
    ppgkd_per_channel_quant q;
    rt_scale sc;
    int32_t c_in, c_out, l_in, kk, l_out;
    ppgkd_dims di, dw, db, dout;
    do {
      kk = n % 6 == 0 ? 7 : ks[rand_int(0, 2)]; /* every sixth: wide (C_in > 128, K = 7) */
      p.stride = rand_int(1, 2), p.dilation = 1, p.relu = rand_int(0, 1);
      p.padding = rand_int(0, 3) == 0 ? rand_int(0, kk) : kk / 2;
      c_in = n % 6 == 0 ? rand_int(129, RT_BIG_C_IN) : rand_int(1, 128);
      c_out = rand_int(1, RT_BIG_C_OUT);
      l_in = rand_int(13, RT_BIG_L_IN);
      l_out = ppgkd_conv1d_out_length(l_in, kk, &p);
    } while (l_out < 1);
    if ((int64_t)c_in * l_in > 2048) ++blocked;
    if (c_in * ((kk + 1) / 2) > 512) ++wide;
    rand_s8_conv_case(&p, c_in, l_in, c_out, kk, 1, &sc, &act, &q, rt_big_x, rt_big_w, rt_big_b,
                      rt_big_mult, rt_big_shift);
    di = dims(1, c_in, l_in), dw = dims(c_out, c_in, kk), db = dims(c_out, 1, 1);
    dout = dims(1, c_out, l_out);
    memset(rt_big_y, 0x55, sizeof rt_big_y);
    need = ppgkd_conv1d_s8_scratch_bytes(&p, c_in, c_out, kk, l_out);
    EXPECT_TRUE(need > 0 && need <= ctx.size); /* so the DSP kernels take every case */
    {
      /* A buffer 4 bytes off the 8-byte alignment: with `need` bytes the DSP kernel aligns it
       * (every third case), with one byte less it declines and the portable loops run (every
       * third case after it); the same bits either way. */
      const ppgkd_context off4 = {(uint8_t*)scratch_buf + 4, n % 3 == 1 ? need - 1 : need};
      EXPECT_STATUS(PPGKD_OK,
                    ppgkd_conv1d_s8(n % 3 == 0 ? &ctx : &off4, &p, &act, &q, &di, rt_big_x, &dw,
                                    rt_big_w, &db, rt_big_b, &dout, rt_big_y));
    }
    ref_conv1d_s8(&p, &act, &q, c_in, l_in, rt_big_x, c_out, kk, rt_big_w, rt_big_b, l_out,
                  rt_big_r);
    if (memcmp(rt_big_y, rt_big_r, (size_t)(c_out * l_out)) != 0 && ++mismatches <= 3) {
      MT_FAIL("case %d: C_in %ld C_out %ld L_in %ld K %ld stride %ld pad %ld in_zp %ld", n,
              (long)c_in, (long)c_out, (long)l_in, (long)kk, (long)p.stride, (long)p.padding,
              (long)act.in_zp);
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  EXPECT_TRUE(blocked > 20 && wide > 5);
}

/* One random int8 convolution on the big buffers (rand_s8_conv_case's draws for p's shape), run
 * by ppgkd_conv1d_s8 into rt_big_y (pre-filled with 0x55, so bytes past the output can be checked)
 * and by the reference loops; 1 when the two differ. */
static int s8_conv_case_differs(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in,
                                int32_t c_out, int32_t kk, int32_t l_out) {
  ppgkd_s8_act act;
  ppgkd_per_channel_quant q;
  rt_scale sc;
  const ppgkd_dims di = dims(1, c_in, l_in), dw = dims(c_out, c_in, kk), db = dims(c_out, 1, 1);
  const ppgkd_dims dout = dims(1, c_out, l_out);
  rand_s8_conv_case(p, c_in, l_in, c_out, kk, 1, &sc, &act, &q, rt_big_x, rt_big_w, rt_big_b,
                    rt_big_mult, rt_big_shift);
  memset(rt_big_y, 0x55, sizeof rt_big_y);
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_s8(&ctx, p, &act, &q, &di, rt_big_x, &dw, rt_big_w, &db,
                                          rt_big_b, &dout, rt_big_y));
  ref_conv1d_s8(p, &act, &q, c_in, l_in, rt_big_x, c_out, kk, rt_big_w, rt_big_b, l_out, rt_big_r);
  return memcmp(rt_big_y, rt_big_r, (size_t)(c_out * l_out)) != 0;
}

/* Every shape of the DSP kernels' channel-pair path (conv1d_s8_fast.c: dilation 1, K = 1, 3, 5,
 * 7, 1-12 input channels, so each unrolled dot product of 2, 3, 4, 6, 10, 14, 21, 28, 35 and 42
 * words, the seven-word loop and the looped one; K = 1 gathering strided positions), with one, two
 * and three output channels (a lone last channel), stride 1 and 2, padding K / 2 or random, rows
 * shorter than a 4-position widening step, and 200 positions (two blocks), against the reference
 * loops; in every build (the portable one checks itself). */
static void test_conv1d_s8_small_channels_matches_reference(void) {
  static const int32_t ks[4] = {1, 3, 5, 7}, ls[3] = {3, 9, 200};
  int32_t c_in, ki, s, c_out, li, cases = 0, mismatches = 0;
  test_rng_seed(17);
  for (c_in = 1; c_in <= 12; ++c_in) {
    for (ki = 0; ki < 4; ++ki) {
      for (s = 1; s <= 2; ++s) {
        for (c_out = 1; c_out <= 3; ++c_out) {
          for (li = 0; li < 3; ++li) {
            const int32_t kk = ks[ki], l_in = ls[li];
            ppgkd_conv1d_params p;
            int32_t l_out;
            p.stride = s, p.dilation = 1, p.relu = rand_int(0, 1);
            p.padding = rand_int(0, 1) ? kk / 2 : rand_int(0, kk);
            l_out = ppgkd_conv1d_out_length(l_in, kk, &p);
            if (l_out < 1) continue;
            ++cases;
            if (s8_conv_case_differs(&p, c_in, l_in, c_out, kk, l_out) && ++mismatches <= 3) {
              MT_FAIL("C_in %ld C_out %ld L_in %ld K %ld stride %ld pad %ld", (long)c_in,
                      (long)c_out, (long)l_in, (long)kk, (long)s, (long)p.padding);
            }
          }
        }
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  EXPECT_TRUE(cases > 600);
}

/* The AVX2 kernel's row tiles (conv1d_s8_fast.c: four output channels x 16 or 8 positions, a
 * short last tile, strides 1-3; weights widened by one shuffle for K <= 8, eight taps at a time
 * beyond): C_out 1-9, K 1, 3, 7, 8, 11 and L_out around multiples of 8, against the reference
 * loops, with the bytes after the output checked untouched. */
static void test_conv1d_s8_tile_edges_matches_reference(void) {
  static const int32_t ks[5] = {1, 3, 7, 8, 11}, cis[4] = {1, 2, 5, 12},
                       ls[6] = {1, 7, 8, 9, 17, 40};
  int32_t ci, ki, s, c_out, li, cases = 0, mismatches = 0, clobbered = 0;
  test_rng_seed(29);
  for (ci = 0; ci < 4; ++ci) {
    for (ki = 0; ki < 5; ++ki) {
      for (s = 1; s <= 3; ++s) {
        for (c_out = 1; c_out <= 9; ++c_out) {
          for (li = 0; li < 6; ++li) {
            const int32_t c_in = cis[ci], kk = ks[ki], l_in = ls[li];
            ppgkd_conv1d_params p;
            int32_t l_out, j;
            p.stride = s, p.dilation = 1, p.relu = rand_int(0, 1);
            p.padding = rand_int(0, kk);
            l_out = ppgkd_conv1d_out_length(l_in, kk, &p);
            if (l_out < 1) continue;
            ++cases;
            if (s8_conv_case_differs(&p, c_in, l_in, c_out, kk, l_out) && ++mismatches <= 3) {
              MT_FAIL("C_in %ld C_out %ld L_in %ld K %ld stride %ld pad %ld", (long)c_in,
                      (long)c_out, (long)l_in, (long)kk, (long)s, (long)p.padding);
            }
            for (j = c_out * l_out; j < c_out * l_out + 32; ++j) clobbered += rt_big_y[j] != 0x55;
          }
        }
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  EXPECT_EQ_INT(0, clobbered);
  EXPECT_TRUE(cases > 1800);
}

/* int8 dense of a per-channel layer whose rows have different shifts and multipliers (the AVX2
 * kernel requantises eight rows per vector with per-lane shifts; other tests give every row the
 * same shift), some rows outside the high-word form (shift 0..3: the row-by-row fallback): M
 * 1-40, N 1-100, against the reference loops. */
static void test_dense_s8_mixed_shifts_matches_reference(void) {
  int n, i, mismatches = 0;
  test_rng_seed(31);
  for (n = 0; n < 300; ++n) {
    const int32_t n_in = rand_int(1, 100), m_out = rand_int(1, RT_BIG_C_OUT);
    const int odd_rows = rand_int(0, 3) == 0;
    ppgkd_dense_params p;
    ppgkd_s8_act act;
    ppgkd_per_channel_quant q;
    ppgkd_dims di, dw, db, dout;
    p.relu = rand_int(0, 1);
    act.in_zp = rand_int(-128, 127), act.out_zp = rand_int(-128, 127);
    act.act_min = p.relu ? act.out_zp : -128, act.act_max = 127;
    for (i = 0; i < n_in; ++i) rt_big_x[i] = (int8_t)rand_int(-128, 127);
    for (i = 0; i < m_out * n_in; ++i) rt_big_w[i] = (int8_t)rand_int(-127, 127);
    for (i = 0; i < m_out; ++i) {
      rt_big_b[i] = rand_int(-100000, 100000);
      rt_big_mult[i] = (uint16_t)rand_int(0, 65535);
      rt_big_shift[i] = (int8_t)(odd_rows && rand_int(0, 4) == 0 ? rand_int(0, 3)
                                                                 : rand_int(PPGKD_SHIFT_MIN, -1));
      if (rand_int(0, 1)) rt_big_shift[i] = (int8_t)rand_int(-24, -12); /* in-range outputs */
    }
    q.multiplier = rt_big_mult, q.shift = rt_big_shift, q.per_tensor = 0;
    di = dims(1, n_in, 1), dw = dims(m_out, n_in, 1), db = dims(m_out, 1, 1);
    dout = dims(1, m_out, 1);
    memset(rt_big_y, 0x55, 64);
    EXPECT_STATUS(PPGKD_OK, ppgkd_dense_s8(&ctx, &p, &act, &q, &di, rt_big_x, &dw, rt_big_w, &db,
                                           rt_big_b, &dout, rt_big_y));
    ref_dense_s8(&act, &q, n_in, rt_big_x, m_out, rt_big_w, rt_big_b, rt_big_r);
    if (memcmp(rt_big_y, rt_big_r, (size_t)m_out) != 0 && ++mismatches <= 3) {
      MT_FAIL("case %d: N %ld M %ld", n, (long)n_in, (long)m_out);
    }
    for (i = m_out; i < 64; ++i) mismatches += rt_big_y[i] != 0x55;
  }
  EXPECT_EQ_INT(0, mismatches);
}

/* The DSP kernels' scratch for five shapes, computed by hand from the layouts documented in
 * conv1d_s8_fast.c (+ 4 bytes to align doublewords):
 *   direct, C_in 4, K 3, stride 1, L_out 200: kp = 2 tap pairs, tb = min(128, (2048 / 4 - 4) + 1)
 *     = 128 positions, rows of 127 + 4 = 131 -> 132 int16: 8*4*2 + 8*128 + 2*4*132 = 2144;
 *   pointwise, C_in 8, K 1, L_out 100: 4 channel pairs, tb = min(128, 2048 / 8, 100) = 100:
 *     8*4 + 8*100 + 2*100*8 = 2432;
 *   im2col (dilation 2), C_in 10, K 3, C_out 40: chunks of all 10 channels (30 taps), blocks of
 *     32 channels: 8*30 + 4*32 + 16*32 + 4*30 = 1000;
 *   wide direct -> im2col, C_in 200, K 7 (200 x 4 pairs > 512), C_out 8: chunks of 24 channels
 *     (168 taps): 8*168 + 4*8 + 16*8 + 4*168 = 2176;
 *   K 49 (> 192 / 4 taps per chunk): no DSP kernel, 0. */
static void test_conv1d_s8_scratch_bytes(void) {
  ppgkd_conv1d_params p;
  p.stride = 1, p.padding = 1, p.dilation = 1, p.relu = 0;
  EXPECT_EQ_INT(2144 + 4, ppgkd_conv1d_s8_scratch_bytes(&p, 4, 6, 3, 200));
  p.padding = 0;
  EXPECT_EQ_INT(2432 + 4, ppgkd_conv1d_s8_scratch_bytes(&p, 8, 16, 1, 100));
  p.dilation = 2;
  EXPECT_EQ_INT(1000 + 4, ppgkd_conv1d_s8_scratch_bytes(&p, 10, 40, 3, 50));
  p.dilation = 1, p.padding = 3;
  EXPECT_EQ_INT(2176 + 4, ppgkd_conv1d_s8_scratch_bytes(&p, 200, 8, 7, 50));
  EXPECT_EQ_INT(0, ppgkd_conv1d_s8_scratch_bytes(&p, 2, 8, 49, 50));
  EXPECT_EQ_INT(0, ppgkd_conv1d_s8_scratch_bytes(0, 2, 8, 3, 50));
  EXPECT_EQ_INT(2048, ppgkd_add_s8_scratch_bytes(64));
  EXPECT_EQ_INT(0, ppgkd_add_s8_scratch_bytes(63));
}

static void test_dense_matches_reference(void) {
  int n, i, bad, mismatches = 0;
  test_rng_seed(13);
  for (n = 0; n < 120; ++n) {
    const int32_t n_in = rand_int(1, RT_DENSE_N), m_out = rand_int(1, RT_DENSE_M);
    const int with_bias = rand_int(0, 3) != 0;
    const rt_scale sc = rand_scale(n_in);
    ppgkd_dense_params p;
    ppgkd_s8_act act;
    ppgkd_per_channel_quant q;
    ppgkd_dims di, dw, db, dout;
    p.relu = rand_int(0, 1);
    act.in_zp = rand_int(-128, 127);
    act.out_zp = sc.unit ? rand_int(-20, 20) : rand_int(-128, 127);
    act.act_min = p.relu ? act.out_zp : -128, act.act_max = 127;
    for (i = 0; i < n_in; ++i) rt_xf[i] = rand_f32(), rt_x8[i] = rand_x8(&sc, act.in_zp);
    for (i = 0; i < m_out * n_in; ++i) rt_wf[i] = rand_f32(), rt_w8[i] = rand_w8(&sc);
    for (i = 0; i < m_out; ++i) {
      rt_bf[i] = rand_f32();
      rt_b8[i] = rand_b32(&sc);
      rt_mult[i] = (uint16_t)rand_int((sc.mult_lo + 32767) >> PPGKD_RQ_MULT_SHIFT, 65535);
      rt_shift[i] = (int8_t)sc.shift;
    }
    q.multiplier = rt_mult, q.shift = rt_shift;
    q.per_tensor = rand_int(0, 3) == 0; /* one entry for every channel */
    di = dims(1, n_in, 1), dw = dims(m_out, n_in, 1), db = dims(m_out, 1, 1);
    dout = dims(1, m_out, 1);
    EXPECT_STATUS(PPGKD_OK, ppgkd_dense_f32(&ctx, &p, &di, rt_xf, &dw, rt_wf, &db,
                                            with_bias ? rt_bf : 0, &dout, rt_yf));
    ref_dense_f32(p.relu, n_in, rt_xf, m_out, rt_wf, with_bias ? rt_bf : 0, rt_rf);
    {
      /* dense is conv1d with K = 1 over one position: the same error scale */
      const ppgkd_conv1d_params pd = {1, 0, 1, 0};
      ref_conv1d_abs(&pd, n_in, 1, rt_xf, m_out, 1, rt_wf, with_bias ? rt_bf : 0, 1, rt_abs);
    }
    for (i = 0, bad = 0; i < m_out; ++i) bad += !f32_agree(rt_yf[i], rt_rf[i], n_in, rt_abs[i]);
    EXPECT_STATUS(PPGKD_OK, ppgkd_dense_s8(&ctx, &p, &act, &q, &di, rt_x8, &dw, rt_w8, &db,
                                           with_bias ? rt_b8 : 0, &dout, rt_y8));
    ref_dense_s8(&act, &q, n_in, rt_x8, m_out, rt_w8, with_bias ? rt_b8 : 0, rt_r8);
    if (bad != 0 || memcmp(rt_y8, rt_r8, (size_t)m_out) != 0) {
      if (++mismatches <= 3) MT_FAIL("case %d: N %ld M %ld", n, (long)n_in, (long)m_out);
    }
  }
  EXPECT_EQ_INT(0, mismatches);
}

/* The int8 dense of the small heads (dense_s8_fast.c: per-tensor, high-word requantisation,
 * 4-32 inputs in whole words, unrolled for 4, 8 and 12) against the reference loops: every input
 * size from 4 to 36 in steps of 4, per-tensor and per-channel, with and without bias and ReLU. */
static void test_dense_s8_small_inputs_matches_reference(void) {
  int n_in, n, i, head_cases = 0, mismatches = 0;
  test_rng_seed(18);
  for (n_in = 4; n_in <= 36; n_in += 4) {
    for (n = 0; n < 12; ++n) {
      const int32_t m_out = rand_int(1, RT_DENSE_M);
      const int with_bias = rand_int(0, 3) != 0;
      const rt_scale sc = rand_scale(n_in);
      ppgkd_dense_params p;
      ppgkd_s8_act act;
      ppgkd_per_channel_quant q;
      ppgkd_dims di, dw, db, dout;
      p.relu = rand_int(0, 1);
      act.in_zp = rand_int(-128, 127);
      act.out_zp = sc.unit ? rand_int(-20, 20) : rand_int(-128, 127);
      act.act_min = p.relu ? act.out_zp : -128, act.act_max = 127;
      for (i = 0; i < n_in; ++i) rt_x8[i] = rand_x8(&sc, act.in_zp);
      for (i = 0; i < m_out * n_in; ++i) rt_w8[i] = rand_w8(&sc);
      for (i = 0; i < m_out; ++i) {
        rt_b8[i] = rand_b32(&sc);
        rt_mult[i] = (uint16_t)rand_int((sc.mult_lo + 32767) >> PPGKD_RQ_MULT_SHIFT, 65535);
        rt_shift[i] = (int8_t)sc.shift;
      }
      q.multiplier = rt_mult, q.shift = rt_shift;
      q.per_tensor = n % 4 != 3;
      head_cases += q.per_tensor && sc.shift <= -2 && n_in <= 32;
      di = dims(1, n_in, 1), dw = dims(m_out, n_in, 1), db = dims(m_out, 1, 1);
      dout = dims(1, m_out, 1);
      memset(rt_y8, 0x55, (size_t)m_out);
      EXPECT_STATUS(PPGKD_OK, ppgkd_dense_s8(&ctx, &p, &act, &q, &di, rt_x8, &dw, rt_w8, &db,
                                             with_bias ? rt_b8 : 0, &dout, rt_y8));
      ref_dense_s8(&act, &q, n_in, rt_x8, m_out, rt_w8, with_bias ? rt_b8 : 0, rt_r8);
      if (memcmp(rt_y8, rt_r8, (size_t)m_out) != 0 && ++mismatches <= 3) {
        MT_FAIL("N %d M %ld per-tensor %d shift %ld", n_in, (long)m_out, (int)q.per_tensor,
                (long)sc.shift);
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  EXPECT_TRUE(head_cases > 40);
}

/* The fast kernels' requantisation (src/ops/simd.h: the per-channel form prepared once, the
 * high word of the 64-bit sum) against ppgkd_requantize, on extremes and random values, every
 * shift in range and some outside it. */
static void test_rq_value_matches_requantize(void) {
  static const int32_t vals[6] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX};
  static const int32_t mults[5] = {0, 1, Q_HALF, INT32_MAX - 1, INT32_MAX};
  int32_t shift, i, j, n, mismatches = 0;
  test_rng_seed(14);
  for (shift = PPGKD_SHIFT_MIN - 1; shift <= PPGKD_SHIFT_MAX + 1; ++shift) {
    for (i = 0; i < 6; ++i) {
      for (j = 0; j < 5; ++j) {
        const ppgkd_rq r = ppgkd_rq_prepare(mults[j], shift);
        mismatches += ppgkd_rq_value(vals[i], &r) != ppgkd_requantize(vals[i], mults[j], shift);
      }
    }
    for (n = 0; n < 200; ++n) {
      const int32_t v = rand_int(-2000000000, 2000000000) + rand_int(-100, 100);
      const int32_t m = rand_int(0, INT32_MAX);
      const ppgkd_rq r = ppgkd_rq_prepare(m, shift);
      mismatches += ppgkd_rq_value(v, &r) != ppgkd_requantize(v, m, shift);
    }
  }
  EXPECT_EQ_INT(0, mismatches);
}

/* The reference int8 add: the body of the original plain kernel (add.c without its fast path). */
static int8_t ref_add_s8(int8_t a, int8_t b, const ppgkd_s8_act* act, const ppgkd_add_s8_quant* q) {
  const int32_t sa = ((int32_t)a - q->a_zp) * ((int32_t)1 << q->left_shift);
  const int32_t sb = ((int32_t)b - q->b_zp) * ((int32_t)1 << q->left_shift);
  const int64_t sum = (int64_t)ppgkd_requantize(sa, q->q_a.multiplier, q->q_a.shift) +
                      ppgkd_requantize(sb, q->q_b.multiplier, q->q_b.shift);
  const int32_t sum32 = sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : (int32_t)sum;
  int64_t v = (int64_t)ppgkd_requantize(sum32, q->q_out.multiplier, q->q_out.shift) + act->out_zp;
  if (v < act->act_min) v = act->act_min;
  if (v > act->act_max) v = act->act_max;
  return (int8_t)v;
}

/* ppgkd_add_s8 against the reference on random inputs and quantisations: shifts mostly as an
 * exporter makes them (inputs at 2^-1..2^-4, output 2^-31..2^-10) and one case in four anywhere
 * in range, so saturating sums and channels left to ppgkd_requantize are covered too. */
static void test_add_s8_matches_reference(void) {
  int n, i, mismatches = 0;
  test_rng_seed(15);
  for (n = 0; n < 200; ++n) {
    const int wild = rand_int(0, 3) == 0;
    const int32_t len = rand_int(1, RT_DENSE_N);
    ppgkd_add_s8_quant q;
    ppgkd_s8_act act;
    const ppgkd_add_params p = {0};
    ppgkd_dims d;
    q.a_zp = rand_int(-128, 127), q.b_zp = rand_int(-128, 127);
    q.left_shift = rand_int(0, PPGKD_ADD_MAX_LEFT_SHIFT);
    q.q_a.multiplier = rand_int(INT32_C(1) << 30, INT32_MAX);
    q.q_b.multiplier = rand_int(INT32_C(1) << 30, INT32_MAX);
    q.q_out.multiplier = rand_int(INT32_C(1) << 30, INT32_MAX);
    q.q_a.shift = wild ? rand_int(PPGKD_SHIFT_MIN, PPGKD_SHIFT_MAX) : rand_int(-3, 0);
    q.q_b.shift = wild ? rand_int(PPGKD_SHIFT_MIN, PPGKD_SHIFT_MAX) : rand_int(-3, 0);
    q.q_out.shift = wild ? rand_int(PPGKD_SHIFT_MIN, PPGKD_SHIFT_MAX) : rand_int(-31, -10);
    act.out_zp = rand_int(-128, 127);
    act.act_min = rand_int(0, 1) ? act.out_zp : -128, act.act_max = 127;
    for (i = 0; i < len; ++i) rt_x8[i] = (int8_t)rand_int(-128, 127);
    for (i = 0; i < len; ++i) rt_w8[i] = (int8_t)rand_int(-128, 127);
    d = dims(1, 1, len);
    EXPECT_STATUS(PPGKD_OK, ppgkd_add_s8(&ctx, &p, &act, &q, &d, rt_x8, &d, rt_w8, &d, rt_y8));
    for (i = 0; i < len; ++i) {
      if (rt_y8[i] != ref_add_s8(rt_x8[i], rt_w8[i], &act, &q)) {
        if (++mismatches <= 3) MT_FAIL("case %d element %d", n, i);
        break;
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
}

/* The input quantisation as graph.c wrote it before ppgkd_quantize_input_s8 (the
 * specification in ppgkd_edge_ops.h, written out plainly): clamp in float, then round halves
 * away from zero. */
static int8_t ref_quantize_input(float x, float scale, int32_t zp) {
  float v = x / scale + (float)zp;
  v = v < -128.0f ? -128.0f : v > 127.0f ? 127.0f : v;
  return (int8_t)(int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/* ppgkd_quantize_input_s8 against the reference on every value where it could differ: for each
 * scale and zero point, the inputs whose v = x / scale + zp lands on or next to a half (k + 0.5,
 * k = -140..140, where the rounding and the clamp decide) and on the integers, each with its
 * float neighbours, then random values from 1e-30 to 1e30 of both signs, +-0, the extremes, and
 * a scale so small that a finite x overflows to an infinite v. NaN and infinities give
 * PPGKD_ERR_INPUT. */
#define QI_N 4096 /* values per scale and zero point */
static void test_quantize_input_matches_reference(void) {
  static const float scales[6] = {0.0173f, 0.1f, 0.3333333f, 1.0f, 7.5f, 1e-30f};
  static const int32_t zps[5] = {-128, -5, 0, 37, 127};
  static float xs[QI_N];
  static int8_t out[QI_N];
  int si, zi, k, d, i, mismatches = 0;
  test_rng_seed(16);
  for (si = 0; si < 6; ++si) {
    for (zi = 0; zi < 5; ++zi) {
      const float scale = scales[si];
      const int32_t zp = zps[zi];
      int n = 0;
      for (k = -140; k <= 140; ++k) { /* 2810 values */
        for (d = 0; d < 2; ++d) {
          /* x with x / scale + zp near k + 0.5 (d = 0) or k (d = 1), and its neighbours */
          const float x0 = ((float)k + (d == 0 ? 0.5f : 0.0f) - (float)zp) * scale;
          xs[n++] = x0;
          xs[n++] = nextafterf(x0, INFINITY), xs[n++] = nextafterf(x0, -INFINITY);
          xs[n++] = nextafterf(nextafterf(x0, INFINITY), INFINITY);
          xs[n++] = nextafterf(nextafterf(x0, -INFINITY), -INFINITY);
        }
      }
      while (n < QI_N - 8) {
        const float mag =
            powf(10.0f, (float)rand_int(-30, 30)) * (float)rand_int(1, 1000) / 1000.0f;
        xs[n++] = rand_int(0, 1) ? mag : -mag;
      }
      xs[n++] = 0.0f, xs[n++] = -0.0f, xs[n++] = FLT_MAX, xs[n++] = -FLT_MAX;
      xs[n++] = FLT_MIN, xs[n++] = -FLT_MIN, xs[n++] = 1e-45f, xs[n++] = -1e-45f;
      EXPECT_STATUS(PPGKD_OK, ppgkd_quantize_input_s8(xs, (uint32_t)n, scale, zp, out));
      for (i = 0; i < n; ++i) {
        if (out[i] != ref_quantize_input(xs[i], scale, zp)) {
          if (++mismatches <= 3) {
            MT_FAIL("scale %g zp %d x %.9g: %d, reference %d", (double)scale, (int)zp,
                    (double)xs[i], (int)out[i], (int)ref_quantize_input(xs[i], scale, zp));
          }
        }
      }
    }
  }
  EXPECT_EQ_INT(0, mismatches);
  {
    float bad[3] = {1.0f, 2.0f, 3.0f};
    bad[1] = NAN;
    EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_quantize_input_s8(bad, 3, 0.1f, 0, out));
    bad[1] = INFINITY;
    EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_quantize_input_s8(bad, 3, 0.1f, 0, out));
    bad[1] = -INFINITY;
    EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_quantize_input_s8(bad, 3, 1e-30f, 0, out));
    bad[1] = 2.0f;
    EXPECT_STATUS(PPGKD_OK, ppgkd_quantize_input_s8(bad, 3, 0.1f, 0, out));
    EXPECT_EQ_INT(10, out[0]);
    EXPECT_EQ_INT(20, out[1]);
    EXPECT_EQ_INT(30, out[2]);
    EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_quantize_input_s8(0, 3, 0.1f, 0, out));
  }
}

static void test_conv1d_negative_zero_bias_in_padding(void) {
  /* K = 1, padding 1: the first and last outputs read only padding, so they are the bias
   * exactly, -0.0 included (adding w * 0 would give +0.0). The middle output is -0.0 + w * x. */
  const float x[1] = {2.0f}, w[1] = {0.5f}, b[1] = {-0.0f};
  float y[3];
  const ppgkd_conv1d_params p = {1, 1, 1, 1};
  const ppgkd_dims di = dims(1, 1, 1), dw = dims(1, 1, 1), db = dims(1, 1, 1), dout = dims(1, 1, 3);
  EXPECT_STATUS(PPGKD_OK, ppgkd_conv1d_f32(&ctx, &p, &di, x, &dw, w, &db, b, &dout, y));
  EXPECT_TRUE(y[0] == 0.0f);
  EXPECT_NEAR(1.0, y[1], 0);
  EXPECT_TRUE(y[2] == 0.0f);
#ifdef PPGKD_FAST_AVX2
  printf(
      "  AVX2 build: the sign of a zero made only of padding is not checked (+0.0 by design, "
      "see conv1d_f32_fast.c)\n");
#else
  EXPECT_TRUE(signbit(y[0]) && signbit(y[2]));
#endif
}

/* ------------------------------------------------------------------ decode */

#define NC 180
static float logits[NC];

static void set_weights(const int* cls, const float* w, int n) {
  int i;
  for (i = 0; i < NC; ++i) logits[i] = -1e4f; /* exp underflows to exactly 0 */
  for (i = 0; i < n; ++i) logits[cls[i]] = logf(w[i]);
}

static void test_decode_hand_posterior(void) {
  /* Unnormalised posterior 1,4,1 at classes 49,50,51 and 3 at class 120 (total 9). Argmax 50;
   * window 40..60 holds mass 6/9; BPM = (79.5 + 4 * 80.5 + 81.5) / 6 = 80.5. */
  const int cls[4] = {49, 50, 51, 120};
  const float w[4] = {1, 4, 1, 3};
  ppgkd_decode_params p = {NC, 10, 30.0f, 1.0f, 0.0f};
  float bpm = 0, conf = 0;
  set_weights(cls, w, 4);
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  EXPECT_NEAR(80.5, bpm, 1e-4);
  EXPECT_NEAR(6.0 / 9.0, conf, 1e-5);
  p.radius = NC;
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_decode_f32(&p, logits, &bpm, &conf));
}

static void test_decode_window_clamped_at_edge(void) {
  /* Weights 1,2,1,1 at classes 0,2,12,13; argmax 2, window 0..12 (lower end clamped):
   * mass 4/5, BPM = (30.5 + 2 * 32.5 + 42.5) / 4 = 34.5. */
  const int cls[4] = {0, 2, 12, 13};
  const float w[4] = {1, 2, 1, 1};
  const ppgkd_decode_params p = {NC, 10, 30.0f, 1.0f, 0.0f};
  float bpm = 0, conf = 0;
  set_weights(cls, w, 4);
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  EXPECT_NEAR(34.5, bpm, 1e-4);
  EXPECT_NEAR(0.8, conf, 1e-5);
}

static void test_decode_s8(void) {
  /* scale ln 2: exp(q * ln 2) = 2^q. q = 0, 2, 1 at classes 49..51, -128 elsewhere (2^-128,
   * negligible): weights 1, 4, 2 -> BPM = (79.5 + 322 + 163) / 7 = 80.642857, mass ~ 1. */
  static int8_t q[NC];
  const ppgkd_decode_params p = {NC, 10, 30.0f, 1.0f, 0.0f};
  float bpm = 0, conf = 0;
  int i;
  for (i = 0; i < NC; ++i) q[i] = -128;
  q[49] = 0, q[50] = 2, q[51] = 1;
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_s8(&p, 0.69314718f, 0, q, &bpm, &conf));
  EXPECT_NEAR(564.5 / 7.0, bpm, 1e-4);
  EXPECT_NEAR(1.0, conf, 1e-5);
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_decode_s8(&p, 0.0f, 0, q, &bpm, &conf));
}

void reference_smoothed_decode(const double* wt, int n, double sigma, int radius, double* bpm,
                               double* conf) {
  static double p[NC], sm[NC]; /* static: the M4 test stack is small */
  const int r = (int)ceil(3.0 * sigma);
  double total = 0, z = 0, mass = 0, moment = 0;
  int c, d, arg = 0;
  for (c = 0; c < n; ++c) total += wt[c];
  for (c = 0; c < n; ++c) p[c] = wt[c] / total;
  for (d = -r; d <= r; ++d) z += exp(-d * d / (2 * sigma * sigma));
  for (c = 0; c < n; ++c) {
    sm[c] = 0;
    for (d = -r; d <= r; ++d)
      if (c + d >= 0 && c + d < n) sm[c] += exp(-d * d / (2 * sigma * sigma)) / z * p[c + d];
    if (sm[c] > sm[arg]) arg = c;
  }
  for (c = arg - radius; c <= arg + radius; ++c) {
    if (c < 0 || c >= n) continue;
    mass += sm[c];
    moment += sm[c] * (30.5 + c);
  }
  *bpm = moment / mass;
  *conf = mass;
}

static void decode_against_reference(const double* wt, float sigma, uint32_t radius) {
  ppgkd_decode_params p = {NC, 0, 30.0f, 1.0f, 0.0f};
  float bpm = 0, conf = 0;
  double ref_bpm = 0, ref_conf = 0;
  int i;
  p.radius = radius, p.smooth_sigma = sigma;
  for (i = 0; i < NC; ++i) logits[i] = logf((float)wt[i]);
  reference_smoothed_decode(wt, NC, sigma, (int)radius, &ref_bpm, &ref_conf);
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  EXPECT_NEAR(ref_bpm, bpm, 1e-3);
  EXPECT_NEAR(ref_conf, conf, 1e-5);
}

static void test_decode_smoothed(void) {
  /* A spike of 5 at class 40 against seven classes of 1 at 97..103: the spike is the tallest
   * bin, but smoothed (sigma 3) the wide mode holds more mass near its centre, 5.71 against 5
   * (times the centre tap), and it is symmetric about class 100: 130.5 BPM. Without smoothing
   * the spike's class, 70.5 BPM. */
  static double wt[NC];
  ppgkd_decode_params p = {NC, 10, 30.0f, 1.0f, PPGKD_DECODE_SMOOTH_SIGMA};
  float bpm = 0, conf = 0;
  uint32_t seed = 12345u;
  int i;
  for (i = 0; i < NC; ++i) wt[i] = 1e-9;
  wt[40] = 5;
  for (i = 97; i <= 103; ++i) wt[i] = 1;
  for (i = 0; i < NC; ++i) logits[i] = logf((float)wt[i]);
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  EXPECT_NEAR(130.5, bpm, 1e-3);
  p.smooth_sigma = 0.0f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  EXPECT_NEAR(70.5, bpm, 1e-3);
  decode_against_reference(wt, 3.0f, 10);
  /* Three equal classes at the low end: the kernel's lower half falls off the range. */
  for (i = 0; i < NC; ++i) wt[i] = 1e-9;
  wt[0] = wt[1] = wt[2] = 1;
  decode_against_reference(wt, 3.0f, 10);
  /* Random posteriors, several widths and radii (r up to 15, the ring's size). */
  for (i = 0; i < NC; ++i) {
    seed = seed * 1664525u + 1013904223u;
    wt[i] = 0.05 + (double)(seed >> 8) / 16777216.0;
  }
  wt[150] += 3;
  decode_against_reference(wt, 3.0f, 10);
  decode_against_reference(wt, 1.5f, 4);
  decode_against_reference(wt, 5.0f, 20);
  decode_against_reference(wt, 0.4f, 0);
  /* Out of range: negative, above the ring's limit, NaN. */
  p.smooth_sigma = -1.0f;
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  p.smooth_sigma = PPGKD_DECODE_MAX_SMOOTH_SIGMA * 1.01f;
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  p.smooth_sigma = NAN;
  EXPECT_STATUS(PPGKD_ERR_DECODE, ppgkd_decode_f32(&p, logits, &bpm, &conf));
}

/* ppgkd_decode_f32 as defined, scanning every class, in the runtime's float operations and
 * order: the exponentials summed in class order, taps as smoothing_taps builds them, s(c) =
 * w0 e(c) + sum over d = 1..r of w(d) (e(c - d) + e(c + d)) with 0 beyond the range, the first
 * maximum, then mass and moment over the window in class order. The runtime computes s only
 * where it can hold the argmax, which must leave every bit of the result unchanged. */
static void full_scan_decode(const float* lg, float sigma, uint32_t radius, float* bpm,
                             float* conf) {
  static float e[NC], s[NC]; /* static: the M4 test stack is small */
  float w[16], sum, max = lg[0], total = 0.0f, mass = 0.0f, moment = 0.0f;
  uint32_t r = 0, d, c, arg = 0, lo, hi;
  for (c = 1; c < NC; ++c)
    if (lg[c] > max) max = lg[c];
  for (c = 0; c < NC; ++c) total += e[c] = ppgkd_exp_nonpos(lg[c] - max);
  w[0] = 1.0f;
  if (sigma > 0.0f) {
    while ((float)r < 3.0f * sigma) ++r;
    for (sum = 1.0f, d = 1; d <= r; ++d) {
      w[d] = ppgkd_exp_nonpos(-(float)(d * d) / (2.0f * sigma * sigma));
      sum += 2.0f * w[d];
    }
    for (d = 0; d <= r; ++d) w[d] /= sum;
  }
  for (c = 0; c < NC; ++c) {
    s[c] = w[0] * e[c];
    for (d = 1; d <= r; ++d)
      s[c] += w[d] * ((d <= c ? e[c - d] : 0.0f) + (c + d < NC ? e[c + d] : 0.0f));
    if (s[c] > s[arg]) arg = c;
  }
  lo = arg > radius ? arg - radius : 0;
  hi = arg + radius < NC ? arg + radius : NC - 1;
  for (c = lo; c <= hi; ++c) {
    mass += s[c];
    moment += s[c] * (30.0f + ((float)c + 0.5f) * 1.0f);
  }
  *bpm = moment / mass;
  *conf = mass / total;
}

/* The centre tap w0 of the smoothing kernel for sigma, as the runtime computes it. */
static float centre_tap(float sigma) {
  float sum = 1.0f;
  uint32_t r = 0, d;
  while ((float)r < 3.0f * sigma) ++r;
  for (d = 1; d <= r; ++d) sum += 2.0f * ppgkd_exp_nonpos(-(float)(d * d) / (2.0f * sigma * sigma));
  return 1.0f / sum;
}

static int same_bits(float a, float b) {
  return memcmp(&a, &b, sizeof a) == 0;
}

static void expect_full_scan(float sigma, uint32_t radius) {
  const ppgkd_decode_params p = {NC, radius, 30.0f, 1.0f, sigma};
  float bpm = 0, conf = 0, ref_bpm = 0, ref_conf = 0;
  EXPECT_STATUS(PPGKD_OK, ppgkd_decode_f32(&p, logits, &bpm, &conf));
  full_scan_decode(logits, sigma, radius, &ref_bpm, &ref_conf);
  EXPECT_TRUE(same_bits(ref_bpm, bpm));
  EXPECT_TRUE(same_bits(ref_conf, conf));
}

static void test_decode_skipping_classes_changes_no_bit(void) {
  static const float sigmas[4] = {3.0f, 1.5f, 5.0f, 0.0f};
  static int8_t q[NC];
  uint32_t seed = 777u, trial, i, k;
  for (trial = 0; trial < 200; ++trial) {
    const uint32_t shape = trial % 5;
    float centre[2], width[2], height[2];
    for (k = 0; k < 2; ++k) {
      seed = seed * 1664525u + 1013904223u;
      centre[k] = (float)(seed >> 8) / 16777216.0f * NC;
      seed = seed * 1664525u + 1013904223u;
      width[k] = 1.0f + (float)(seed >> 8) / 16777216.0f * 12.0f;
      seed = seed * 1664525u + 1013904223u;
      height[k] = 4.0f + (float)(seed >> 8) / 16777216.0f * 16.0f;
    }
    if (shape == 2) height[1] = height[0]; /* two modes of one height */
    for (i = 0; i < NC; ++i) {
      float bump0 = ((float)i - centre[0]) / width[0], bump1 = ((float)i - centre[1]) / width[1];
      seed = seed * 1664525u + 1013904223u;
      logits[i] = (float)(seed >> 8) / 16777216.0f; /* noise in [0, 1) */
      if (shape == 0) logits[i] *= 8.0f;            /* flat: every class a candidate */
      if (shape >= 1) logits[i] += height[0] * expf(-bump0 * bump0);
      if (shape >= 2) logits[i] += height[1] * expf(-bump1 * bump1);
    }
    if (shape == 4) {
      /* A spike (s = w0 there, about 0.133 for sigma 3) and, 40 classes on, a plateau of 25
       * classes at e just above w0, the skipping threshold: the plateau's centre smooths to
       * about its level, so it holds the argmax by a hair, which a threshold 0.1 % too high
       * would skip. */
      const uint32_t a = (uint32_t)centre[0] % (NC - 70);
      const float level = logf(centre_tap(3.0f) * (1.0f + 5e-4f * (float)(trial % 3 + 1)));
      for (i = 0; i < NC; ++i) logits[i] = -30.0f;
      logits[a] = 0.0f;
      for (i = a + 40; i < a + 65; ++i) logits[i] = level;
    }
    for (k = 0; k < 4; ++k) expect_full_scan(sigmas[k], 10);
    expect_full_scan(3.0f, 0);
  }
  /* The int8 path: the dequantised logits through the same decode. */
  for (i = 0; i < NC; ++i) {
    seed = seed * 1664525u + 1013904223u;
    q[i] = (int8_t)((int32_t)(seed >> 24) - 128);
  }
  q[60] = 127, q[100] = 126, q[101] = 126, q[102] = 125;
  {
    const ppgkd_decode_params p = {NC, 10, 30.0f, 1.0f, PPGKD_DECODE_SMOOTH_SIGMA};
    float bpm = 0, conf = 0, ref_bpm = 0, ref_conf = 0;
    for (i = 0; i < NC; ++i) logits[i] = 0.05f * (float)((int32_t)q[i] - 3);
    EXPECT_STATUS(PPGKD_OK, ppgkd_decode_s8(&p, 0.05f, 3, q, &bpm, &conf));
    full_scan_decode(logits, PPGKD_DECODE_SMOOTH_SIGMA, 10, &ref_bpm, &ref_conf);
    EXPECT_TRUE(same_bits(ref_bpm, bpm));
    EXPECT_TRUE(same_bits(ref_conf, conf));
  }
}

/* ------------------------------------------------------------------ exp and log without libm */

/* The bounds documented in nolibm_math.h, on sweeps of each domain: the worst error as a
 * fraction of its bound must stay <= 1. */
static double exp_error_ratio(float x) {
  const double want = exp((double)x), got = ppgkd_exp_nonpos(x);
  /* relative 1e-7 for normal results; a subnormal one has one more rounding (<= 2^-150) */
  return fabs(got - want) / (1e-7 * want + 1.40129846e-45);
}

/* ppgkd_exp_nonpos8 against ppgkd_exp_nonpos bit for bit: every float in [-1, 0] on a fine
 * grid, every 2^-10 from -110 to 0 (the subnormal results below -87.3, the x < -104 cut), and
 * -0, NaN, -infinity. */
static void test_exp_nonpos8_matches_scalar(void) {
#ifdef PPGKD_FAST_AVX2
  static float x[8 * 4096];
  float e[8];
  int32_t i, j, n = 0, bad = 0;
  for (i = 0; i < 110 * 1024 && n < 8 * 4096 - 16; i += 4) x[n++] = -(float)i / 1024.0f;
  for (i = 0; n < 8 * 4096 - 8; ++i) x[n++] = -(float)i / 4096.0f;
  x[n++] = -0.0f, x[n++] = -104.0f, x[n++] = -103.99999f, x[n++] = -104.00001f;
  x[n++] = -87.33655f, x[n++] = -1e30f, x[n++] = NAN, x[n++] = -INFINITY;
  for (i = 0; i + 8 <= n; i += 8) {
    ppgkd_exp_nonpos8(x + i, e);
    for (j = 0; j < 8; ++j) {
      const float want = ppgkd_exp_nonpos(x[i + j]);
      if (memcmp(&want, &e[j], sizeof want) != 0 && ++bad <= 3) {
        MT_FAIL("exp(%.9g): %.9g, scalar %.9g", (double)x[i + j], (double)e[j], (double)want);
      }
    }
  }
  EXPECT_EQ_INT(0, bad);
  EXPECT_TRUE(n >= 8 * 4096 - 8);
#else
  printf("  skipped: ppgkd_exp_nonpos8 exists in AVX2 builds only\n");
#endif
}

static void test_exp_nonpos(void) {
  double worst = 0.0, r;
  int k;
  for (k = 0; k <= 4096; ++k) { /* -104..0 evenly */
    r = exp_error_ratio(-104.0f * (float)k / 4096.0f);
    if (r > worst) worst = r;
  }
  for (k = 1; k <= 149; ++k) { /* tiny arguments: -2^-1 .. -2^-149 */
    r = exp_error_ratio(-(float)ldexp(1.0, -k));
    if (r > worst) worst = r;
  }
  EXPECT_NEAR(0.0, worst, 1.0);
  EXPECT_TRUE(ppgkd_exp_nonpos(0.0f) == 1.0f);
  EXPECT_TRUE(ppgkd_exp_nonpos(-0.0f) == 1.0f);
  EXPECT_TRUE(ppgkd_exp_nonpos(-104.5f) == 0.0f);
  EXPECT_TRUE(ppgkd_exp_nonpos(-HUGE_VALF) == 0.0f);
  EXPECT_TRUE(ppgkd_exp_nonpos(-103.9f) > 0.0f); /* subnormal, not flushed */
  {
    const float nan = ppgkd_exp_nonpos(NAN);
    EXPECT_TRUE(nan != nan);
  }
}

static void test_log_pos(void) {
  double worst = 0.0;
  int k;
  for (k = 0; k <= 8192; ++k) {
    /* e^-103 .. e^88 (subnormal up to near FLT_MAX), then densely over (1/2, 2) */
    const float x = k <= 4096 ? (float)exp(-103.0 + 191.0 * k / 4096.0)
                              : 0.5f + 1.5f * (float)(k - 4096) / 4096.0f;
    const double want = log((double)x), got = ppgkd_log_pos(x);
    /* absolute 1e-7 on (1/2, 2), relative 1.3e-7 elsewhere */
    const double bound = x > 0.5f && x < 2.0f ? 1e-7 : 1.3e-7 * fabs(want);
    const double ratio = fabs(got - want) / bound;
    if (ratio > worst) worst = ratio;
  }
  EXPECT_NEAR(0.0, worst, 1.0);
  EXPECT_TRUE(ppgkd_log_pos(1.0f) == 0.0f);
  EXPECT_NEAR(-103.278929, ppgkd_log_pos(1.40129846e-45f), 1.3e-7 * 103.3); /* 2^-149 */
}

/* ------------------------------------------------------------------ preprocessing */

static void test_standardise(void) {
  /* [1,2,3,4]: mean 2.5, population variance 1.25, sd 1.1180340; the flat channel -> zeros. */
  float x[8] = {1, 2, 3, 4, 5, 5, 5, 5};
  const double sd = 1.118033988749895;
  EXPECT_STATUS(PPGKD_OK, ppgkd_standardise(x, 2, 4));
  EXPECT_NEAR(-1.5 / sd, x[0], 1e-6);
  EXPECT_NEAR(-0.5 / sd, x[1], 1e-6);
  EXPECT_NEAR(0.5 / sd, x[2], 1e-6);
  EXPECT_NEAR(1.5 / sd, x[3], 1e-6);
  EXPECT_NEAR(0, x[4], 0);
  EXPECT_NEAR(0, x[7], 0);
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_standardise(x, 0, 4));
}

static void test_sos_impulse_responses(void) {
  /* One pole at 0.5 (b = [1,0,0], a1 = -0.5): h[n] = 0.5^n. Two in cascade: h[n] = (n+1) 0.5^n.
   * FIR section [1,2,1]: h = 1, 2, 1, 0. */
  const ppgkd_biquad pole[2] = {{1, 0, 0, -0.5f, 0}, {1, 0, 0, -0.5f, 0}};
  const ppgkd_biquad fir[1] = {{1, 2, 1, 0, 0}};
  float state[4];
  ppgkd_sos_filter f;
  int n;
  EXPECT_STATUS(PPGKD_OK, ppgkd_sos_init(&f, pole, 1, state));
  for (n = 0; n < 6; ++n) EXPECT_NEAR(pow(0.5, n), ppgkd_sos_step(&f, n == 0 ? 1.0f : 0.0f), 1e-7);
  EXPECT_STATUS(PPGKD_OK, ppgkd_sos_init(&f, pole, 2, state));
  for (n = 0; n < 6; ++n) {
    EXPECT_NEAR((n + 1) * pow(0.5, n), ppgkd_sos_step(&f, n == 0 ? 1.0f : 0.0f), 1e-6);
  }
  EXPECT_STATUS(PPGKD_OK, ppgkd_sos_init(&f, fir, 1, state));
  EXPECT_NEAR(1, ppgkd_sos_step(&f, 1), 0);
  ppgkd_sos_reset(&f); /* forgets the impulse: the next output starts from rest again */
  EXPECT_NEAR(1, ppgkd_sos_step(&f, 1), 0);
  EXPECT_NEAR(2, ppgkd_sos_step(&f, 0), 0);
  EXPECT_NEAR(1, ppgkd_sos_step(&f, 0), 0);
  EXPECT_NEAR(0, ppgkd_sos_step(&f, 0), 0);
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_sos_init(&f, fir, 0, state));
}

static void test_crc32_check_value(void) {
  const uint8_t s[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ_INT(0xCBF43926L, (long)ppgkd_crc32(s, 9));
  EXPECT_EQ_INT(0, (long)ppgkd_crc32(s, 0));
}

void run_op_tests(void) {
  RUN_TEST(test_conv1d_f32_stride_padding_dilation);
  RUN_TEST(test_conv1d_f32_channels_relu);
  RUN_TEST(test_conv1d_rejects_bad_dims);
  RUN_TEST(test_dense_f32);
  RUN_TEST(test_avg_pool1d_f32);
  RUN_TEST(test_add_relu_f32);
  RUN_TEST(test_requantize_rounding);
  RUN_TEST(test_requantize_extremes);
  RUN_TEST(test_accumulator_bound);
  RUN_TEST(test_conv1d_s8);
  RUN_TEST(test_conv1d_s8_saturation);
  RUN_TEST(test_dense_s8_per_channel);
  RUN_TEST(test_add_s8);
  RUN_TEST(test_avg_pool1d_s8);
  RUN_TEST(test_relu_s8);
  RUN_TEST(test_conv1d_f32_matches_reference);
  RUN_TEST(test_conv1d_s8_matches_reference);
  RUN_TEST(test_conv1d_s8_large_matches_reference);
  RUN_TEST(test_conv1d_s8_small_channels_matches_reference);
  RUN_TEST(test_conv1d_s8_tile_edges_matches_reference);
  RUN_TEST(test_dense_s8_mixed_shifts_matches_reference);
  RUN_TEST(test_conv1d_s8_scratch_bytes);
  RUN_TEST(test_dense_matches_reference);
  RUN_TEST(test_dense_s8_small_inputs_matches_reference);
  RUN_TEST(test_rq_value_matches_requantize);
  RUN_TEST(test_add_s8_matches_reference);
  RUN_TEST(test_quantize_input_matches_reference);
  RUN_TEST(test_conv1d_negative_zero_bias_in_padding);
  RUN_TEST(test_decode_hand_posterior);
  RUN_TEST(test_decode_window_clamped_at_edge);
  RUN_TEST(test_decode_s8);
  RUN_TEST(test_decode_smoothed);
  RUN_TEST(test_decode_skipping_classes_changes_no_bit);
  RUN_TEST(test_exp_nonpos);
  RUN_TEST(test_exp_nonpos8_matches_scalar);
  RUN_TEST(test_log_pos);
  RUN_TEST(test_standardise);
  RUN_TEST(test_sos_impulse_responses);
  RUN_TEST(test_crc32_check_value);
}
