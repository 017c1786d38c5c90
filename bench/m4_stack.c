/* m4_stack.c — the arena ppgkd_arena_required asks for and the stack ppgkd_run uses on a
 * Cortex-M4 (qemu), for two int8 ResNets built with the edge tests' blob builder (no training):
 * stem 16, stages 16-32-64, K = 5 (test_bench.c's) and stem 32, stages 32-64-128, K = 7 (the
 * widest layers of the DSP direct kernel). The stack below main's stack pointer is painted, one
 * ppgkd_run, then the lowest overwritten word gives its depth (as bench/m4_model_main.c).
 * Built and run by bench/m4_stack.sh; prints one "STACK ..." line per model. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "blob_builder.h"
#include "ppgkd_edge.h"

#define BC 4
#define BL 200
#define BK 180
static uint32_t rng = 1;
static float uni(void) {
  rng = rng * 1664525u + 1013904223u;
  return (float)((rng >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}
static float wbuf[200000];
static uint8_t data_buf[400000];
static uint8_t blob[420 * 1024] __attribute__((aligned(8)));
static uint8_t arena[96 * 1024] __attribute__((aligned(8)));
static bb_builder b;
static const float* rw(int n, float amp) {
  int i;
  for (i = 0; i < n; ++i) wbuf[i] = amp * uni();
  return wbuf;
}
static uint32_t conv(uint32_t in, uint32_t ci, uint32_t co, uint32_t k, uint32_t stride, int relu,
                     bb_qparams q) {
  return bb_conv1d(&b, in, co, k, stride, k / 2, 1, relu, rw((int)(co * ci * k), 0.2f), 0, q);
}
static size_t resnet(uint32_t stem, const uint32_t* widths, uint32_t k) {
  bb_qparams q;
  uint32_t x, c = stem, l = BL, s;
  size_t len = 0;
  q.scale = 0.05f, q.zero_point = 0;
  bb_init(&b, 1, data_buf, sizeof data_buf);
  x = bb_input(&b, BC, BL, q);
  x = conv(x, BC, stem, k, 1, 1, q);
  for (s = 0; s < 3; ++s) {
    const uint32_t w = widths[s], stride = s == 0 ? 1 : 2;
    uint32_t h = conv(x, c, w, k, stride, 1, q), sc = x;
    h = conv(h, w, w, k, 1, 0, q);
    if (stride != 1 || w != c) sc = conv(x, c, w, 1, stride, 0, q);
    x = bb_add(&b, h, sc, 1, q);
    c = w, l = (l + stride - 1) / stride;
  }
  x = bb_avg_pool1d(&b, x, l, 1, q);
  x = bb_dense(&b, x, BK, 0, rw(BK * c, 0.2f), 0, q);
  if (bb_finish(&b, x, BK, blob, sizeof blob, &len) != 0) return 0;
  return len;
}
void* _sbrk(ptrdiff_t increment);
static uint32_t stack_of_run(ppgkd_model* m, const float* x) {
  uintptr_t sp, lo = (uintptr_t)_sbrk(0) + 1024u;
  volatile uint32_t* p;
  float bpm, conf;
  __asm volatile("mov %0, sp" : "=r"(sp));
  sp &= ~(uintptr_t)3u;
  if (sp - lo > 65536u) lo = sp - 65536u;
  lo = (lo + 3u) & ~(uintptr_t)3u;
  __asm volatile("cpsid i" ::: "memory");
  for (p = (volatile uint32_t*)lo; p < (volatile uint32_t*)sp; ++p) *p = 0xDEADBEEFu;
  (void)ppgkd_run(m, x, &bpm, &conf);
  for (p = (volatile uint32_t*)lo; p < (volatile uint32_t*)sp && *p == 0xDEADBEEFu; ++p) {
  }
  __asm volatile("cpsie i" ::: "memory");
  return (uint32_t)(sp - (uintptr_t)p);
}
void ppgkd_port_init(void);
int main(void) {
  ppgkd_port_init();
  static const uint32_t w1[3] = {16, 32, 64}, w2[3] = {32, 64, 128};
  static float x[BC * BL];
  struct {
    const char* name;
    uint32_t stem;
    const uint32_t* w;
    uint32_t k;
  } cfg[2] = {{"stem16 16-32-64 k5", 16, w1, 5}, {"stem32 32-64-128 k7", 32, w2, 7}};
  int i, j;
  for (i = 0; i < BC * BL; ++i) x[i] = uni();
  for (j = 0; j < 2; ++j) {
    ppgkd_model m;
    size_t len = resnet(cfg[j].stem, cfg[j].w, cfg[j].k), need = 0;
    int s1 = ppgkd_arena_required(blob, len, &need);
    int s2 = ppgkd_init(&m, blob, len, arena, sizeof arena);
    printf("STACK %s int8: required arena %lu B (status %d %d), ppgkd_run stack %lu B\n",
           cfg[j].name, (unsigned long)need, s1, s2, (unsigned long)stack_of_run(&m, x));
  }
  return 0;
}
