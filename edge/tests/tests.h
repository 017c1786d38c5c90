/* tests.h — the test groups of the edge runtime, run by test_main.c on the host and on the M4,
 * and small helpers they share. */
#ifndef PPGKD_EDGE_TESTS_H
#define PPGKD_EDGE_TESTS_H

#include <stdint.h>

void run_op_tests(void);      /* test_ops.c */
void run_graph_tests(void);   /* test_graph.c */
void run_loader_tests(void);  /* test_loader.c */
void run_tracker_tests(void); /* test_tracker.c */
void run_preprocess_tests(void); /* test_preprocess.c */
void run_bench(void);         /* test_bench.c: prints cost per inference, asserts nothing else */

/* Deterministic uniform numbers in [-1, 1) (a 32-bit LCG), so host and M4 see the same data. */
void test_rng_seed(uint32_t seed);
float test_rng_uniform(void);

/* Platform counter (edge/port/<port>/port.c): instructions on the M4 under qemu -icount,
 * microseconds of CPU time on the host. */
void ppgkd_port_init(void);
uint64_t ppgkd_port_counter(void);
const char* ppgkd_port_counter_unit(void);

#endif /* PPGKD_EDGE_TESTS_H */
