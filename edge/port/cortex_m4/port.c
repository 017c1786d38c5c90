/* port.c (Cortex-M4 under qemu) — semihosting output and the instruction counter of the test
 * runner. SysTick runs from the 25 MHz processor clock; with qemu's -icount shift=0 emulated
 * time advances 1 ns per instruction, so one tick is exactly 40 instructions and the count is
 * deterministic (without -icount the counter reads wall time and means nothing). The 24-bit
 * counter wraps every 2^24 ticks; the interrupt counts wraps. */
#include <stdint.h>

extern void initialise_monitor_handles(void); /* newlib rdimon: stdio over semihosting */

void ppgkd_port_init(void);
uint64_t ppgkd_port_counter(void);
const char* ppgkd_port_counter_unit(void);
void SysTick_Handler(void);

#define SYST_CSR (*(volatile uint32_t*)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t*)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t*)0xE000E018u)
#define SYST_RELOAD 0x00FFFFFFu
#define INSTRUCTIONS_PER_TICK 40u /* 1 GHz of -icount time / 25 MHz SysTick */

static volatile uint32_t wraps;

void SysTick_Handler(void) {
  ++wraps;
}

void ppgkd_port_init(void) {
  initialise_monitor_handles();
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0;
  SYST_CSR = 0x7u; /* enable, interrupt on wrap, processor clock */
}

uint64_t ppgkd_port_counter(void) {
  uint32_t w, v;
  do { /* re-read when a wrap happened in between */
    w = wraps;
    v = SYST_CVR;
  } while (w != wraps);
  return ((uint64_t)w * (SYST_RELOAD + 1u) + (SYST_RELOAD - v)) * INSTRUCTIONS_PER_TICK;
}

const char* ppgkd_port_counter_unit(void) {
  return "instructions";
}
