/* test_graph.c — whole graphs: a tiny ResNet-like and an MLP-like model run through blob ->
 * ppgkd_init -> ppgkd_run_logits and compared with a naive float implementation written here
 * independently of the kernels (explicit zero-padded buffers, no runtime code); int8 models
 * built from calibrated ranges compared with the float ones; the arena plan checked against
 * independent bounds. Shapes: C = 2 channels, L = 24 samples, K = 180 classes. */
#include <math.h>
#include <string.h>

#include "../src/ops/simd.h" /* internal: which fast kernels this build compiles */
#include "blob_builder.h"
#include "micro_test.h"
#include "ppgkd_edge.h"
#include "tests.h"

#define C 2
#define L 24
#define K 180
#define MAXC 8

static uint8_t data_buf[32768];
static uint8_t blob[40000] __attribute__((aligned(8)));
static uint8_t arena[8192] __attribute__((aligned(8)));
static bb_builder builder;

static void fill(float* w, int n, float amp) {
  int i;
  for (i = 0; i < n; ++i) w[i] = amp * test_rng_uniform();
}

static void make_window(float* x, uint32_t seed) {
  int c, t;
  test_rng_seed(seed);
  for (c = 0; c < C; ++c) {
    for (t = 0; t < L; ++t) {
      x[c * L + t] =
          sinf(0.5f * (float)t + (float)c + 0.1f * (float)seed) + 0.3f * test_rng_uniform();
    }
  }
}

/* ------------------------------------------------------------------ naive reference */

/* Range tracker for calibration: index per tensor of the model. */
typedef struct {
  float lo[16], hi[16];
} ranges;

static void track(ranges* r, int id, const float* x, int n) {
  int i;
  if (!r) return;
  for (i = 0; i < n; ++i) {
    if (x[i] < r->lo[id]) r->lo[id] = x[i];
    if (x[i] > r->hi[id]) r->hi[id] = x[i];
  }
}

/* Zero-pads x (ci, li) into a buffer, then correlates: no bounds tests in the inner loop, so it
 * shares no structure with conv1d.c. Returns L_out. */
static int naive_conv(const float* x, int ci, int li, const float* w, const float* b, int co, int k,
                      int stride, int pad, int dil, int relu, float* y) {
  static float xp[MAXC * (L + 16)];
  const int lp = li + 2 * pad, lo = (lp - dil * (k - 1) - 1) / stride + 1;
  int c, t, o, j;
  memset(xp, 0, sizeof xp);
  for (c = 0; c < ci; ++c) memcpy(xp + c * lp + pad, x + c * li, sizeof(float) * li);
  for (o = 0; o < co; ++o) {
    for (t = 0; t < lo; ++t) {
      double acc = b[o];
      for (c = 0; c < ci; ++c) {
        for (j = 0; j < k; ++j)
          acc += (double)w[(o * ci + c) * k + j] * xp[c * lp + t * stride + j * dil];
      }
      y[o * lo + t] = (float)(relu && acc < 0 ? 0 : acc);
    }
  }
  return lo;
}

static void naive_dense(const float* x, int n, const float* w, const float* b, int m, int relu,
                        float* y) {
  int i, j;
  for (i = 0; i < m; ++i) {
    double acc = b[i];
    for (j = 0; j < n; ++j) acc += (double)w[i * n + j] * x[j];
    y[i] = (float)(relu && acc < 0 ? 0 : acc);
  }
}

/* ------------------------------------------------------------------ tiny ResNet */
/* stem conv 2->4 k5 p2 +ReLU; block 1: conv 4->4 k3 p1 +ReLU, conv 4->4 k3 dilation 2 p2,
 * + identity, ReLU; block 2: conv 4->6 k3 s2 p1 +ReLU, conv 6->6 k3 p1, shortcut 1x1 s2,
 * add, ReLU; global average pool over 12; dense 6 -> K. */
static float w_stem[4 * 2 * 5], b_stem[4], w_c1[4 * 4 * 3], b_c1[4], w_c2[4 * 4 * 3], b_c2[4];
static float w_c3[6 * 4 * 3], b_c3[6], w_c4[6 * 6 * 3], b_c4[6], w_sc[6 * 4], b_sc[6];
static float w_fc[K * 6], b_fc[K];

enum { R_IN, R_STEM, R_H1, R_H2, R_R1, R_H3, R_H4, R_SC, R_R2, R_GAP, R_OUT, R_COUNT };

static void resnet_init(void) {
  test_rng_seed(7);
  fill(w_stem, 40, 0.5f), fill(b_stem, 4, 0.1f);
  fill(w_c1, 48, 0.4f), fill(b_c1, 4, 0.1f);
  fill(w_c2, 48, 0.4f), fill(b_c2, 4, 0.1f);
  fill(w_c3, 72, 0.4f), fill(b_c3, 6, 0.1f);
  fill(w_c4, 108, 0.3f), fill(b_c4, 6, 0.1f);
  fill(w_sc, 24, 0.5f), fill(b_sc, 6, 0.1f);
  fill(w_fc, K * 6, 1.0f), fill(b_fc, K, 0.2f);
}

static void resnet_naive(const float* x, float* logits, ranges* r) {
  float s[4 * L], h1[4 * L], h2[4 * L], r1[4 * L], h3[6 * 12], h4[6 * 12], sc[6 * 12], r2[6 * 12];
  float gap[6];
  int i, c;
  track(r, R_IN, x, C * L);
  naive_conv(x, 2, L, w_stem, b_stem, 4, 5, 1, 2, 1, 1, s), track(r, R_STEM, s, 4 * L);
  naive_conv(s, 4, L, w_c1, b_c1, 4, 3, 1, 1, 1, 1, h1), track(r, R_H1, h1, 4 * L);
  naive_conv(h1, 4, L, w_c2, b_c2, 4, 3, 1, 2, 2, 0, h2), track(r, R_H2, h2, 4 * L);
  for (i = 0; i < 4 * L; ++i) r1[i] = h2[i] + s[i] > 0 ? h2[i] + s[i] : 0;
  track(r, R_R1, r1, 4 * L);
  naive_conv(r1, 4, L, w_c3, b_c3, 6, 3, 2, 1, 1, 1, h3), track(r, R_H3, h3, 72);
  naive_conv(h3, 6, 12, w_c4, b_c4, 6, 3, 1, 1, 1, 0, h4), track(r, R_H4, h4, 72);
  naive_conv(r1, 4, L, w_sc, b_sc, 6, 1, 2, 0, 1, 0, sc), track(r, R_SC, sc, 72);
  for (i = 0; i < 72; ++i) r2[i] = h4[i] + sc[i] > 0 ? h4[i] + sc[i] : 0;
  track(r, R_R2, r2, 72);
  for (c = 0; c < 6; ++c) {
    double sum = 0;
    for (i = 0; i < 12; ++i) sum += r2[c * 12 + i];
    gap[c] = (float)(sum / 12);
  }
  track(r, R_GAP, gap, 6);
  naive_dense(gap, 6, w_fc, b_fc, K, 0, logits), track(r, R_OUT, logits, K);
}

static size_t resnet_blob(int int8, const ranges* r) {
  bb_qparams q[R_COUNT];
  uint32_t in, s, h1, h2, r1, h3, h4, sc, r2, gap, out;
  size_t len = 0;
  int i;
  memset(q, 0, sizeof q);
  for (i = 0; r && i < R_COUNT; ++i) q[i] = bb_qparams_from_range(r->lo[i], r->hi[i]);
  bb_init(&builder, int8, data_buf, sizeof data_buf);
  in = bb_input(&builder, C, L, q[R_IN]);
  s = bb_conv1d(&builder, in, 4, 5, 1, 2, 1, 1, w_stem, b_stem, q[R_STEM]);
  h1 = bb_conv1d(&builder, s, 4, 3, 1, 1, 1, 1, w_c1, b_c1, q[R_H1]);
  h2 = bb_conv1d(&builder, h1, 4, 3, 1, 2, 2, 0, w_c2, b_c2, q[R_H2]);
  r1 = bb_add(&builder, h2, s, 1, q[R_R1]);
  h3 = bb_conv1d(&builder, r1, 6, 3, 2, 1, 1, 1, w_c3, b_c3, q[R_H3]);
  h4 = bb_conv1d(&builder, h3, 6, 3, 1, 1, 1, 0, w_c4, b_c4, q[R_H4]);
  sc = bb_conv1d(&builder, r1, 6, 1, 2, 0, 1, 0, w_sc, b_sc, q[R_SC]);
  r2 = bb_add(&builder, h4, sc, 1, q[R_R2]);
  gap = bb_avg_pool1d(&builder, r2, 12, 1, q[R_GAP]);
  out = bb_dense(&builder, gap, K, 0, w_fc, b_fc, q[R_OUT]);
  if (bb_finish(&builder, out, K, blob, sizeof blob, &len) != 0) return 0;
  return len;
}

/* ------------------------------------------------------------------ MLP */
/* flatten (2, 24) -> 48, dense 32 +ReLU, dense 16 +ReLU, dense K. */
static float w_m1[32 * 48], b_m1[32], w_m2[16 * 32], b_m2[16], w_m3[K * 16], b_m3[K];
enum { M_IN, M_D1, M_D2, M_OUT, M_COUNT };

static void mlp_init(void) {
  test_rng_seed(11);
  fill(w_m1, 32 * 48, 0.25f), fill(b_m1, 32, 0.1f);
  fill(w_m2, 16 * 32, 0.3f), fill(b_m2, 16, 0.1f);
  fill(w_m3, K * 16, 0.5f), fill(b_m3, K, 0.1f);
}

static void mlp_naive(const float* x, float* logits, ranges* r) {
  float d1[32], d2[16];
  track(r, M_IN, x, C * L);
  naive_dense(x, 48, w_m1, b_m1, 32, 1, d1), track(r, M_D1, d1, 32);
  naive_dense(d1, 32, w_m2, b_m2, 16, 1, d2), track(r, M_D2, d2, 16);
  naive_dense(d2, 16, w_m3, b_m3, K, 0, logits), track(r, M_OUT, logits, K);
}

static size_t mlp_blob(int int8, const ranges* r) {
  bb_qparams q[M_COUNT];
  uint32_t t;
  size_t len = 0;
  int i;
  memset(q, 0, sizeof q);
  for (i = 0; r && i < M_COUNT; ++i) q[i] = bb_qparams_from_range(r->lo[i], r->hi[i]);
  bb_init(&builder, int8, data_buf, sizeof data_buf);
  t = bb_input(&builder, C, L, q[M_IN]);
  t = bb_dense(&builder, t, 32, 1, w_m1, b_m1, q[M_D1]);
  t = bb_dense(&builder, t, 16, 1, w_m2, b_m2, q[M_D2]);
  t = bb_dense(&builder, t, K, 0, w_m3, b_m3, q[M_OUT]);
  if (bb_finish(&builder, t, K, blob, sizeof blob, &len) != 0) return 0;
  return len;
}

/* ------------------------------------------------------------------ checks */

static float max_abs_diff(const float* a, const float* b, int n) {
  float m = 0;
  int i;
  for (i = 0; i < n; ++i) {
    const float d = fabsf(a[i] - b[i]);
    if (d > m) m = d;
  }
  return m;
}

static float spread(const float* a, int n) {
  float lo = a[0], hi = a[0];
  int i;
  for (i = 1; i < n; ++i) lo = a[i] < lo ? a[i] : lo, hi = a[i] > hi ? a[i] : hi;
  return hi - lo;
}

/* Decoding written out in double from the naive logits, for ppgkd_run: the weights
 * exp(z - max z) through the reference decode with the runtime's smoothing. */
static void naive_decode(const float* z, double* bpm, double* conf) {
  static double wt[K];
  double mx = z[0];
  int i;
  for (i = 1; i < K; ++i) mx = z[i] > mx ? z[i] : mx;
  for (i = 0; i < K; ++i) wt[i] = exp(z[i] - mx);
  reference_smoothed_decode(wt, K, PPGKD_DECODE_SMOOTH_SIGMA, 10, bpm, conf);
}

static void check_f32_graph(size_t len, void (*naive)(const float*, float*, ranges*)) {
  ppgkd_model m;
  float x[C * L], got[K], want[K], bpm, conf;
  double want_bpm, want_conf;
  uint32_t seed;
  EXPECT_TRUE(len > 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, blob, len, arena, sizeof arena));
  for (seed = 1; seed <= 3; ++seed) {
    make_window(x, seed);
    naive(x, want, 0);
    EXPECT_STATUS(PPGKD_OK, ppgkd_run_logits(&m, x, got, K));
    /* float32 sums of <= 48 terms against double sums: ~1e-6 relative */
    EXPECT_NEAR(0, max_abs_diff(got, want, K), 1e-4);
    EXPECT_STATUS(PPGKD_OK, ppgkd_run(&m, x, &bpm, &conf));
    naive_decode(want, &want_bpm, &want_conf);
    EXPECT_NEAR(want_bpm, bpm, 1e-3);
    EXPECT_NEAR(want_conf, conf, 1e-4);
  }
}

static void test_resnet_f32_matches_naive(void) {
  resnet_init();
  check_f32_graph(resnet_blob(0, 0), resnet_naive);
}

static void test_mlp_f32_matches_naive(void) {
  mlp_init();
  check_f32_graph(mlp_blob(0, 0), mlp_naive);
}

/* int8: calibrate ranges on windows 1..4, evaluate on window 9 (not seen in calibration). The
 * bound: 8-bit activations carry ~1/255 of their range per layer, and the tiny ResNet stacks
 * seven requantisations, so logits within 8% of their spread is a loose but meaningful bound
 * (a wrong multiplier, zero point or rounding direction breaks it by far). */
static void check_s8_graph(void (*naive)(const float*, float*, ranges*),
                           size_t (*build)(int, const ranges*)) {
  ranges r;
  ppgkd_model m;
  float x[C * L], got[K], want[K];
  double dot = 0, na = 0, nb = 0;
  size_t len;
  int i;
  uint32_t seed;
  for (i = 0; i < 16; ++i) r.lo[i] = 1e30f, r.hi[i] = -1e30f;
  for (seed = 1; seed <= 4; ++seed) {
    make_window(x, seed);
    naive(x, want, &r);
  }
  len = build(1, &r);
  EXPECT_TRUE(len > 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, blob, len, arena, sizeof arena));
  make_window(x, 9);
  naive(x, want, 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_run_logits(&m, x, got, K));
  EXPECT_TRUE(max_abs_diff(got, want, K) <= 0.08f * spread(want, K));
  for (i = 0; i < K; ++i) dot += got[i] * want[i], na += got[i] * got[i], nb += want[i] * want[i];
  EXPECT_TRUE(dot / sqrt(na * nb) > 0.99);
  printf("  int8 vs f32: max |diff| %.4f of spread %.4f\n", max_abs_diff(got, want, K),
         spread(want, K));
}

static void test_resnet_s8_close_to_f32(void) {
  resnet_init();
  check_s8_graph(resnet_naive, resnet_blob);
}

static void test_mlp_s8_close_to_f32(void) {
  mlp_init();
  check_s8_graph(mlp_naive, mlp_blob);
}

/* The arena plan of the f32 ResNet: tensors alive together never share bytes (checked here
 * from the records, independently of the loader) and the arena lies between the largest set of
 * simultaneously live tensors and the sum of all activations. */
static void test_arena_plan_bounds(void) {
  size_t len, need = 0;
  uint32_t nops, nt, i, j, op, total = 0, peak = 0;
  int def[BB_MAX_TENSORS], last[BB_MAX_TENSORS];
  uint32_t size[BB_MAX_TENSORS];
  resnet_init();
  len = resnet_blob(0, 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_arena_required(blob, len, &need));
  nops = bb_get_word(blob, 4 * PPGKD_H_NUM_OPS), nt = bb_get_word(blob, 4 * PPGKD_H_NUM_TENSORS);
  for (i = 0; i < nt; ++i) {
    const size_t ti = bb_tensor_offset(blob, i);
    def[i] = i == bb_get_word(blob, 4 * PPGKD_H_INPUT) ? -1 : 1000;
    last[i] = i == bb_get_word(blob, 4 * PPGKD_H_OUTPUT) ? (int)nops : -1;
    for (op = 0; op < nops; ++op) {
      const size_t o = bb_op_offset(blob, op);
      if (bb_get_u16(blob, o + PPGKD_OP_OUT) == i) def[i] = (int)op;
      if (bb_get_u16(blob, o + PPGKD_OP_IN0) == i ||
          (blob[o + PPGKD_OP_TYPE] == PPGKD_OPT_ADD && bb_get_u16(blob, o + PPGKD_ADD_IN1) == i))
        last[i] = (int)op;
    }
    size[i] = 4 * bb_get_u16(blob, ti + PPGKD_T_DIM0) * bb_get_u16(blob, ti + PPGKD_T_DIM1);
    total += size[i];
  }
  for (op = 0; op < nops; ++op) {
    uint32_t live = 0;
    for (i = 0; i < nt; ++i) {
      const size_t ti = bb_tensor_offset(blob, i);
      if (def[i] <= (int)op && (int)op <= last[i]) live += size[i];
      for (j = i + 1; j < nt; ++j) {
        const size_t tj = bb_tensor_offset(blob, j);
        uint32_t ai, aj;
        if (!(def[i] <= last[j] && def[j] <= last[i])) continue;
        ai = bb_get_word(blob, ti + PPGKD_T_OFFSET);
        aj = bb_get_word(blob, tj + PPGKD_T_OFFSET);
        EXPECT_TRUE(ai + size[i] <= aj || aj + size[j] <= ai);
      }
    }
    if (live > peak) peak = live;
  }
  EXPECT_TRUE(peak <= need);
  EXPECT_TRUE(need <= total);
  EXPECT_TRUE(need < total); /* reuse happened: this graph has short-lived tensors */
  printf("  arena %u bytes (live peak %u, all activations %u)\n", (unsigned)need, (unsigned)peak,
         (unsigned)total);
}

/* The kernels' scratch is part of the arena an int8 model requires. A model whose second
 * convolution (64 -> 8 channels, K = 7, padding 3, L = 24) wants the DSP direct kernel's
 * scratch, computed by hand from its layout (conv1d_s8_fast.c: the channel pair's weights as
 * int16 pairs, 8 bytes x C_in x ceil(K / 2) = 8 x 64 x 4 = 2048; the sums of a block of
 * tb = min(128, (2048 / 64 - 2 x 4) / 1 + 1 = 25, L_out = 24) = 24 positions of two channels,
 * 8 x 24 = 192; the input rows, C_in rows of (24 - 1) x 1 + 2 x 4 = 31 int16 rounded to 32:
 * 2 x 64 x 32 = 4096; + 4 to align the doublewords) = 6340 bytes, more than the first
 * convolution's (2 -> 64, K = 3: 8 x 2 x 2 + 8 x 24 + 2 x 2 x 28 + 4 = 340) and with no add.
 * ppgkd_arena_required is the activations' plan (header) rounded up to 8 plus exactly that; one
 * byte less is refused with PPGKD_ERR_ARENA_SMALL; at exactly that size a run writes nothing
 * past the arena (canary bytes after it), and the DSP build uses the scratch (its bytes change)
 * while the portable and AVX2 builds do not touch it. */
static float w_s1[64 * 2 * 3], w_s2[8 * 64 * 7], w_sfc[K * 8];
static uint8_t scratch_arena[16384] __attribute__((aligned(8)));

static void test_arena_includes_kernel_scratch(void) {
  const bb_qparams q = bb_qparams_from_range(-4.0f, 4.0f);
  const uint32_t expected_scratch = 6340;
  ppgkd_model m;
  float x[C * L], logits[K];
  size_t len = 0, need = 0, i;
  uint32_t t, plan, changed = 0, canary_ok = 1;
  test_rng_seed(77);
  fill(w_s1, 64 * 2 * 3, 0.5f), fill(w_s2, 8 * 64 * 7, 0.1f), fill(w_sfc, K * 8, 0.5f);
  bb_init(&builder, 1, data_buf, sizeof data_buf);
  t = bb_input(&builder, C, L, q);
  t = bb_conv1d(&builder, t, 64, 3, 1, 1, 1, 1, w_s1, 0, q);
  t = bb_conv1d(&builder, t, 8, 7, 1, 3, 1, 1, w_s2, 0, q);
  t = bb_avg_pool1d(&builder, t, L, 1, q);
  t = bb_dense(&builder, t, K, 0, w_sfc, 0, q);
  EXPECT_TRUE(bb_finish(&builder, t, K, blob, sizeof blob, &len) == 0);
  plan = bb_get_word(blob, 4 * PPGKD_H_ARENA_SIZE);
  EXPECT_STATUS(PPGKD_OK, ppgkd_arena_required(blob, len, &need));
  EXPECT_EQ_INT((plan + 7) / 8 * 8 + expected_scratch, need);
  EXPECT_TRUE(need + 64 <= sizeof scratch_arena);
  EXPECT_STATUS(PPGKD_ERR_ARENA_SMALL, ppgkd_init(&m, blob, len, scratch_arena, need - 1));
  EXPECT_STATUS(PPGKD_ERR_ARENA_SMALL, ppgkd_init(&m, blob, len, scratch_arena, plan));
  memset(scratch_arena, 0xA5, sizeof scratch_arena);
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, blob, len, scratch_arena, need));
  make_window(x, 3);
  EXPECT_STATUS(PPGKD_OK, ppgkd_run_logits(&m, x, logits, K));
  for (i = need; i < sizeof scratch_arena; ++i) canary_ok &= scratch_arena[i] == 0xA5;
  for (i = (plan + 7) / 8 * 8; i < need; ++i) changed += scratch_arena[i] != 0xA5;
  EXPECT_TRUE(canary_ok);
#ifdef PPGKD_FAST_DSP
  EXPECT_TRUE(changed > 0);
#else
  EXPECT_EQ_INT(0, changed);
#endif
  /* an f32 model reserves no scratch: the required arena is the plan */
  resnet_init();
  len = resnet_blob(0, 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_arena_required(blob, len, &need));
  EXPECT_EQ_INT(bb_get_word(blob, 4 * PPGKD_H_ARENA_SIZE), need);
  printf("  int8 arena %u = plan %u + scratch %u (scratch bytes written by this build: %u)\n",
         (unsigned)((plan + 7) / 8 * 8 + expected_scratch), (unsigned)plan,
         (unsigned)expected_scratch, (unsigned)changed);
}

void run_graph_tests(void) {
  RUN_TEST(test_resnet_f32_matches_naive);
  RUN_TEST(test_mlp_f32_matches_naive);
  RUN_TEST(test_resnet_s8_close_to_f32);
  RUN_TEST(test_mlp_s8_close_to_f32);
  RUN_TEST(test_arena_plan_bounds);
  RUN_TEST(test_arena_includes_kernel_scratch);
}
