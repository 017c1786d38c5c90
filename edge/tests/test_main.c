/* test_main.c — the edge test runner: the same binary logic on the host and under qemu. Prints
 * the pass sentinel and "N passed, M failed" last; the exit status is the failure count. */
#include <stdio.h>

#include "micro_test.h"
#include "tests.h"

mt_state mt = {0, 0, 0};

static uint32_t rng_state = 1;
void test_rng_seed(uint32_t seed) {
  rng_state = seed;
}
float test_rng_uniform(void) {
  rng_state = rng_state * 1664525u + 1013904223u; /* Numerical Recipes LCG */
  return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

int main(void) {
  ppgkd_port_init();
  printf("ppgkd edge tests\n");
  run_op_tests();
  run_graph_tests();
  run_loader_tests();
  run_tracker_tests();
  run_preprocess_tests();
  run_bench();
  if (mt.failed == 0) printf("%s\n", MT_PASS_SENTINEL);
  printf("%d passed, %d failed\n", mt.passed, mt.failed);
  return mt.failed;
}
