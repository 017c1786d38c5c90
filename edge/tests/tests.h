/* tests.h — the test groups of the edge runtime, run by test_main.c on the host and on the M4,
 * and small helpers they share. */
#ifndef PPGKD_EDGE_TESTS_H
#define PPGKD_EDGE_TESTS_H

#include <stdint.h>

void run_op_tests(void);         /* test_ops.c */
void run_graph_tests(void);      /* test_graph.c */
void run_loader_tests(void);     /* test_loader.c */
void run_tracker_tests(void);    /* test_tracker.c */
void run_preprocess_tests(void); /* test_preprocess.c */
void run_bench(void);            /* test_bench.c: prints cost per inference, asserts nothing else */

/* Deterministic uniform numbers in [-1, 1) (a 32-bit LCG), so host and M4 see the same data. */
void test_rng_seed(uint32_t seed);
float test_rng_uniform(void);

/* The per-window decode from its definition, in double (test_ops.c), on n unnormalised class
 * weights wt (n <= 180): p = wt / sum, smoothed by a Gaussian of sigma classes (taps within
 * ceil(3 sigma), summing to 1, terms beyond the class range left out), then the smoothed-mass-
 * weighted mean of the centres 30.5 + c within +-radius of the first maximum; *conf that mass. */
void reference_smoothed_decode(const double* wt, int n, double sigma, int radius, double* bpm,
                               double* conf);

/* Platform counter (edge/port/<port>/port.c): instructions on the M4 under qemu -icount,
 * microseconds of CPU time on the host. */
void ppgkd_port_init(void);
uint64_t ppgkd_port_counter(void);
const char* ppgkd_port_counter_unit(void);

#endif /* PPGKD_EDGE_TESTS_H */
