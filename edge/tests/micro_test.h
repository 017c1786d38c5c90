/* micro_test.h — a heap-free test harness (after tflite-micro's testing/micro_test.h) so the same
 * tests run on the host and under qemu on a Cortex-M4. A test is a void function; a failed
 * expectation prints file:line and marks the current test failed. The summary line
 * "N passed, M failed" closes the output, preceded by the pass sentinel when M = 0. */
#ifndef PPGKD_MICRO_TEST_H
#define PPGKD_MICRO_TEST_H

#include <stdio.h>

#include "ppgkd_edge.h"

typedef struct {
  int passed, failed, current_failed;
} mt_state;
extern mt_state mt;

#define MT_PASS_SENTINEL "~~~ALL TESTS PASSED~~~"

#define MT_FAIL(...)                              \
  do {                                            \
    printf("  FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__);                          \
    printf("\n");                                 \
    mt.current_failed = 1;                        \
  } while (0)

#define EXPECT_TRUE(cond)              \
  do {                                 \
    if (!(cond)) MT_FAIL("%s", #cond); \
  } while (0)

#define EXPECT_EQ_INT(expected, actual)                                                           \
  do {                                                                                            \
    const long mt_e = (long)(expected), mt_a = (long)(actual);                                    \
    if (mt_e != mt_a) MT_FAIL("%s == %s: expected %ld, got %ld", #expected, #actual, mt_e, mt_a); \
  } while (0)

#define EXPECT_NEAR(expected, actual, tol)                                                 \
  do {                                                                                     \
    const double mt_e = (double)(expected), mt_a = (double)(actual);                       \
    const double mt_d = mt_e > mt_a ? mt_e - mt_a : mt_a - mt_e;                           \
    if (!(mt_d <= (double)(tol)))                                                          \
      MT_FAIL("%s ~ %s: expected %.9g, got %.9g (tol %g)", #expected, #actual, mt_e, mt_a, \
              (double)(tol));                                                              \
  } while (0)

#define EXPECT_STATUS(expected, actual)                                                            \
  do {                                                                                             \
    const ppgkd_status mt_e = (expected), mt_a = (actual);                                         \
    if (mt_e != mt_a)                                                                              \
      MT_FAIL("%s: expected %s, got %s", #actual, ppgkd_status_str(mt_e), ppgkd_status_str(mt_a)); \
  } while (0)

#define RUN_TEST(fn)                \
  do {                              \
    mt.current_failed = 0;          \
    fn();                           \
    if (mt.current_failed) {        \
      ++mt.failed;                  \
      printf("[FAILED] %s\n", #fn); \
    } else {                        \
      ++mt.passed;                  \
      printf("[ok] %s\n", #fn);     \
    }                               \
  } while (0)

#endif /* PPGKD_MICRO_TEST_H */
