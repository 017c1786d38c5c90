/* startup.c (Cortex-M4, qemu mps2-an386) — the vector table and reset handler: enable the FPU
 * (CPACR bits 20-23, before any float instruction), copy .data from flash, zero .bss, run the C
 * library's constructors, call main and exit through semihosting with its status. Minimal by
 * design: no clock setup (qemu has none to do) and every unused exception parks in a loop. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack; /* mps2_an386.ld */
extern void __libc_init_array(void);
extern int main(void);
extern void SysTick_Handler(void); /* port.c */

void Reset_Handler(void);
void Default_Handler(void);
void _init(void);
void _fini(void);

/* -nostartfiles drops crti.o, whose _init/_fini newlib's __libc_init_array still calls; the
 * constructors themselves come from .init_array. */
void _init(void) {}
void _fini(void) {}

#define SCB_CPACR (*(volatile uint32_t*)0xE000ED88u)

void Reset_Handler(void) {
  uint32_t *src = &_sidata, *dst = &_sdata;
  SCB_CPACR |= 0xFu << 20; /* CP10 and CP11 full access: the FPU */
  __asm volatile("dsb\n\tisb" ::: "memory");
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  __libc_init_array();
  exit(main());
}

void Default_Handler(void) {
  for (;;) {
  }
}

typedef void (*vector_fn)(void);
typedef union {
  vector_fn fn;
  uint32_t* sp;
} vector;

/* Cortex-M4 core vectors: initial stack pointer, then the 15 system exceptions. */
__attribute__((section(".isr_vector"), used)) const vector vector_table[16] = {
    {.sp = &_estack},
    {.fn = Reset_Handler},
    {.fn = Default_Handler}, /* NMI */
    {.fn = Default_Handler},
    /* HardFault */ {.fn = Default_Handler}, /* MemManage */
    {.fn = Default_Handler},
    /* BusFault */ {.fn = Default_Handler}, /* UsageFault */
    {.fn = 0},
    {.fn = 0},
    {.fn = 0},
    {.fn = 0},
    {.fn = Default_Handler},
    /* SVCall */ {.fn = Default_Handler}, /* DebugMon */
    {.fn = 0},
    {.fn = Default_Handler},
    /* PendSV */ {.fn = SysTick_Handler},
};
