/* test_bench.c — cost of one inference for small student-sized models at the real input shape
 * (C = 4, L = 200, K = 180): resnet1d:stem=16,stages=16-32-64,blocks=1,k=5 and
 * mlp:hidden=64-32, each f32 and int8. On the M4 under qemu -icount the counter is exact
 * instructions; on the host it is CPU microseconds. The weights are random and the int8
 * quantisation uniform: cost does not depend on values. Asserts only that the models load and
 * run. */
#include <string.h>

#include "blob_builder.h"
#include "micro_test.h"
#include "ppgkd_edge.h"
#include "tests.h"

#define BC 4
#define BL 200
#define BK 180

static float wbuf[64 * BC * BL]; /* the largest layer: the MLP's first dense */
static uint8_t data_buf[300 * 1024];
static uint8_t blob[300 * 1024] __attribute__((aligned(8)));
static uint8_t arena[64 * 1024] __attribute__((aligned(8)));
static bb_builder b;

static const float* rand_weights(int n, float amp) {
  int i;
  for (i = 0; i < n; ++i) wbuf[i] = amp * test_rng_uniform();
  return wbuf;
}

/* Weights are drawn into one scratch buffer per layer (the builder copies them). */
static uint32_t conv(uint32_t in, uint32_t ci, uint32_t co, uint32_t k, uint32_t stride, int relu,
                     bb_qparams q) {
  static float bias[64];
  memset(bias, 0, sizeof bias);
  return bb_conv1d(&b, in, co, k, stride, k / 2, 1, relu, rand_weights((int)(co * ci * k), 0.2f),
                   bias, q);
}

static size_t resnet_bench_blob(int int8, uint32_t* params) {
  static const uint32_t widths[3] = {16, 32, 64};
  bb_qparams q;
  uint32_t x, c = 16, l = BL, s;
  size_t len = 0;
  q.scale = 0.05f, q.zero_point = 0;
  bb_init(&b, int8, data_buf, sizeof data_buf);
  test_rng_seed(3);
  x = bb_input(&b, BC, BL, q);
  x = conv(x, BC, 16, 5, 1, 1, q);
  *params = 16 * BC * 5 + 16;
  for (s = 0; s < 3; ++s) {
    const uint32_t w = widths[s], stride = s == 0 ? 1 : 2;
    uint32_t h = conv(x, c, w, 5, stride, 1, q), sc = x;
    h = conv(h, w, w, 5, 1, 0, q);
    *params += w * c * 5 + w * w * 5 + 2 * w;
    if (stride != 1 || w != c) sc = conv(x, c, w, 1, stride, 0, q), *params += w * c + w;
    x = bb_add(&b, h, sc, 1, q);
    c = w, l = (l + stride - 1) / stride;
  }
  x = bb_avg_pool1d(&b, x, l, 1, q);
  x = bb_dense(&b, x, BK, 0, rand_weights(BK * c, 0.2f), 0, q);
  *params += BK * c;
  if (bb_finish(&b, x, BK, blob, sizeof blob, &len) != 0) return 0;
  return len;
}

static size_t mlp_bench_blob(int int8, uint32_t* params) {
  bb_qparams q;
  uint32_t x;
  size_t len = 0;
  q.scale = 0.05f, q.zero_point = 0;
  bb_init(&b, int8, data_buf, sizeof data_buf);
  test_rng_seed(5);
  x = bb_input(&b, BC, BL, q);
  x = bb_dense(&b, x, 64, 1, rand_weights(64 * BC * BL, 0.05f), 0, q);
  x = bb_dense(&b, x, 32, 1, rand_weights(32 * 64, 0.2f), 0, q);
  x = bb_dense(&b, x, BK, 0, rand_weights(BK * 32, 0.2f), 0, q);
  *params = 64 * BC * BL + 32 * 64 + BK * 32;
  if (bb_finish(&b, x, BK, blob, sizeof blob, &len) != 0) return 0;
  return len;
}

static void bench_one(const char* name, size_t (*build)(int, uint32_t*), int int8) {
  static float window[BC * BL];
  ppgkd_model m;
  size_t len, need = 0;
  uint32_t params = 0;
  uint64_t t0, t1;
  float bpm = 0, conf = 0;
  int i;
  len = build(int8, &params);
  EXPECT_TRUE(len > 0);
  EXPECT_STATUS(PPGKD_OK, ppgkd_arena_required(blob, len, &need));
  EXPECT_STATUS(PPGKD_OK, ppgkd_init(&m, blob, len, arena, sizeof arena));
  test_rng_seed(9);
  for (i = 0; i < BC * BL; ++i) window[i] = test_rng_uniform();
  t0 = ppgkd_port_counter();
  EXPECT_STATUS(PPGKD_OK, ppgkd_run(&m, window, &bpm, &conf));
  t1 = ppgkd_port_counter();
  printf("  bench %-34s %-4s params %6u blob %7u B arena %6u B: %10lu %s/inference\n", name,
         int8 ? "int8" : "f32", (unsigned)params, (unsigned)len, (unsigned)need,
         (unsigned long)(t1 - t0), ppgkd_port_counter_unit());
}

static void bench_models(void) {
  bench_one("resnet1d:stem=16,stages=16-32-64,k=5", resnet_bench_blob, 0);
  bench_one("resnet1d:stem=16,stages=16-32-64,k=5", resnet_bench_blob, 1);
  bench_one("mlp:hidden=64-32", mlp_bench_blob, 0);
  bench_one("mlp:hidden=64-32", mlp_bench_blob, 1);
}

void run_bench(void) {
  RUN_TEST(bench_models);
}
