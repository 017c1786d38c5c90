/* port.c (host) — the platform counter for the test runner: CPU time in microseconds through
 * the C standard clock(). Nothing to initialise. */
#include <stdint.h>
#include <time.h>

void ppgkd_port_init(void);
uint64_t ppgkd_port_counter(void);
const char* ppgkd_port_counter_unit(void);

void ppgkd_port_init(void) {}

uint64_t ppgkd_port_counter(void) {
  return (uint64_t)((double)clock() * 1e6 / (double)CLOCKS_PER_SEC);
}

const char* ppgkd_port_counter_unit(void) {
  return "us";
}
