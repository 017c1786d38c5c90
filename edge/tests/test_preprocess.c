/* test_preprocess.c — the device-side preprocessing the bundle example uses, against hand-derived
 * values: ppgkd_sos_prime (the steady state of a constant input), ppgkd_softmax_f32 (closed-form
 * posteriors) and ppgkd_standardise. */
#include <string.h>

#include "micro_test.h"
#include "ppgkd_edge.h"
#include "ppgkd_edge_ops.h"
#include "tests.h"

/* One section y = 0.5 x + 0.5 x[-1] + 0.2 y[-1] (b = 0.5, 0.5, 0; a1 = -0.2): DC gain 1 / 0.8 =
 * 1.25. Primed at 2, a constant 2 gives 2.5 from the first step on; unprimed, the first output
 * is b0 * 2 = 1. Two such sections: gain 1.5625, 2 -> 3.125. */
static void test_sos_prime_is_the_steady_state(void) {
  const ppgkd_biquad q[2] = {{0.5f, 0.5f, 0.0f, -0.2f, 0.0f}, {0.5f, 0.5f, 0.0f, -0.2f, 0.0f}};
  float state[4];
  ppgkd_sos_filter f;
  int i;
  EXPECT_STATUS(PPGKD_OK, ppgkd_sos_init(&f, q, 1, state));
  EXPECT_NEAR(1.0f, ppgkd_sos_step(&f, 2.0f), 1e-7f);
  ppgkd_sos_prime(&f, 2.0f);
  for (i = 0; i < 5; ++i) EXPECT_NEAR(2.5f, ppgkd_sos_step(&f, 2.0f), 1e-6f);
  EXPECT_STATUS(PPGKD_OK, ppgkd_sos_init(&f, q, 2, state));
  ppgkd_sos_prime(&f, 2.0f);
  for (i = 0; i < 5; ++i) EXPECT_NEAR(3.125f, ppgkd_sos_step(&f, 2.0f), 1e-6f);
  /* A high-pass (b = 1, -2, 1 over 1 + a1 + a2 != 0) has DC gain 0: primed, a constant stays 0. */
  {
    const ppgkd_biquad hp = {0.8f, -1.6f, 0.8f, -1.5f, 0.6f};
    EXPECT_STATUS(PPGKD_OK, ppgkd_sos_init(&f, &hp, 1, state));
    ppgkd_sos_prime(&f, 1000.0f);
    for (i = 0; i < 5; ++i) EXPECT_NEAR(0.0f, ppgkd_sos_step(&f, 1000.0f), 1e-3f);
  }
}

static void test_softmax_closed_forms(void) {
  float logits[4] = {0.0f, 0.0f, 0.0f, 0.0f}, p[4];
  EXPECT_STATUS(PPGKD_OK, ppgkd_softmax_f32(logits, 4, p));
  EXPECT_NEAR(0.25f, p[0], 1e-7f);
  EXPECT_NEAR(0.25f, p[3], 1e-7f);
  /* (1, 0): e / (1 + e) = 0.7310585786 and 1 / (1 + e) = 0.2689414214 */
  logits[0] = 1.0f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_softmax_f32(logits, 2, p));
  EXPECT_NEAR(0.7310585786f, p[0], 2e-7f);
  EXPECT_NEAR(0.2689414214f, p[1], 2e-7f);
  /* a shift of every logit changes nothing; ln 3 against 0 gives 3/4 and 1/4 */
  logits[0] = 1000.0f + 1.0986122887f, logits[1] = 1000.0f;
  EXPECT_STATUS(PPGKD_OK, ppgkd_softmax_f32(logits, 2, p));
  EXPECT_NEAR(0.75f, p[0], 1e-4f);
  logits[2] = logits[2] / 0.0f - logits[2] / 0.0f; /* NaN, not the maximum */
  EXPECT_STATUS(PPGKD_ERR_INPUT, ppgkd_softmax_f32(logits, 4, p));
  EXPECT_STATUS(PPGKD_ERR_ARG, ppgkd_softmax_f32(logits, 0, p));
}

/* (1, 2, 3, 4, 5): mean 3, population std sqrt(2). */
static void test_standardise_by_hand(void) {
  float x[10] = {1, 2, 3, 4, 5, 7, 7, 7, 7, 7};
  EXPECT_STATUS(PPGKD_OK, ppgkd_standardise(x, 2, 5));
  EXPECT_NEAR(-1.4142135f, x[0], 1e-6f);
  EXPECT_NEAR(0.0f, x[2], 1e-6f);
  EXPECT_NEAR(1.4142135f, x[4], 1e-6f);
  EXPECT_NEAR(0.0f, x[7], 0.0f); /* a flat channel becomes zeros */
}

void run_preprocess_tests(void) {
  RUN_TEST(test_sos_prime_is_the_steady_state);
  RUN_TEST(test_softmax_closed_forms);
  RUN_TEST(test_standardise_by_hand);
}
