/* m4_model_main.c — firmware main of bench/m4_ladder.sh: one exported model (the model_data.c/.h
 * that `ppgkd export` writes, compiled in as a const array) on the edge runtime. C99, no heap.
 * Built three ways by the script (deploy image, benchmark image for the M4, the same for the host):
 *
 *   -DM4_DEPLOY   (Cortex-M4) the footprint image: ppgkd_init + ppgkd_run on a window buffer in
 *                 RAM, nothing else (no stdio, no test windows, no port.c; startup.c and
 *                 mps2_an386.ld as they are). arm-none-eabi-size of this image is the flash/RAM
 *                 footprint the table reports.
 *   (default)     the benchmark image, Cortex-M4 under qemu -icount shift=0 (or the host): runs
 *                 the windows of m4_windows.c (bench/m4_windows), prints per window the
 *                 instructions of ppgkd_run (SysTick, edge/port/cortex_m4/port.c), its BPM and
 *                 confidence bits and the K logits' bits (ppgkd_run_logits), then the stack high-
 *                 water mark of ppgkd_run (M4 only).
 *
 * Output lines (parsed by the script; "out" and "logits" lines must match host and M4 exactly):
 *   M4B init <status> blob <bytes> arena <bytes> classes <K>
 *   M4B time <window> <counter> <unit>
 *   M4B out <window> status <s> bpm <hex bits> conf <hex bits>
 *   M4B logits <window> <K hex bits>
 *   M4B info <window> row <cache row> bpm <decimal> conf <decimal>
 *   M4B stack <bytes> painted <bytes>               (M4 only; bytes >= painted: saturated)
 *   M4B done
 *
 * Stack: with interrupts masked (so no exception frame lands in the measurement), the words from
 * the top of newlib's heap (+1 KiB) up to the stack pointer of ppgkd_run's caller, at most
 * 256 KiB, are painted with a pattern; after one ppgkd_run the lowest overwritten word gives the
 * depth below that stack pointer, i.e. everything ppgkd_run and its callees pushed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "m4_windows.h"
#include "model_data.h"
#include "ppgkd_edge.h"

#define M4_WINDOW_FLOATS (M4_WINDOW_C * M4_WINDOW_L)

static uint8_t arena[PPGKD_MODEL_ARENA_BYTES] __attribute__((aligned(8)));

#ifdef M4_DEPLOY

/* The application's input buffer (filled from the sensor pipeline on a real device). */
static float window[M4_WINDOW_FLOATS];

/* startup.c's vector table names it; the footprint image leaves SysTick off and links no
 * port.c, whose semihosting console would pull newlib's stdio and malloc into the image. */
void SysTick_Handler(void);
void SysTick_Handler(void) {}

/* startup.c ends in exit(main()). newlib's _exit (librdimon) would bring the whole semihosting
 * syscall layer and with it stdio and malloc; this one only reports the status to qemu
 * (semihosting SYS_EXIT: ADP_Stopped_ApplicationExit for 0, else RunTimeErrorUnknown, which
 * qemu turns into its own exit status 0 / 1). */
void _exit(int status);
void _exit(int status) {
  const uint32_t reason = status == 0 ? 0x20026u : 0x20023u;
  __asm volatile("mov r0, #0x18\n\tmov r1, %0\n\tbkpt 0xab" : : "r"(reason) : "r0", "r1", "memory");
  for (;;) {
  }
}

int main(void) {
  ppgkd_model m;
  float bpm = 0.0f, confidence = 0.0f;
  if (ppgkd_init(&m, ppgkd_model_data, PPGKD_MODEL_BYTES, arena, sizeof arena) != PPGKD_OK) {
    return 1;
  }
  if (m.in_channels * m.in_length != M4_WINDOW_FLOATS) return 2;
  return ppgkd_run(&m, window, &bpm, &confidence) == PPGKD_OK ? 0 : 3;
}

#else

#include <stdio.h>

/* edge/port/<port>/port.c: instructions under qemu -icount on the M4, CPU microseconds on the
 * host. */
void ppgkd_port_init(void);
uint64_t ppgkd_port_counter(void);
const char* ppgkd_port_counter_unit(void);

#define M4_MAX_CLASSES 1024

static float logits[M4_MAX_CLASSES];

static unsigned long bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (unsigned long)u;
}

#if defined(__arm__)

#define M4_PAINT 0xC5A3E17Bu
#define M4_PAINT_MAX_BYTES (256u * 1024u)

void* _sbrk(ptrdiff_t increment); /* newlib/rdimon: the heap grows from `end` towards the stack */

/* Depth in bytes that ppgkd_run reaches below this function's stack pointer; *painted gets the
 * bytes painted (the result is >= *painted when the stack went deeper than the paint). */
static uint32_t stack_of_run(ppgkd_model* m, const float* x, uint32_t* painted) {
  uintptr_t sp, lo, heap_top = (uintptr_t)_sbrk(0) + 1024u;
  volatile uint32_t* p;
  float bpm, confidence;
  __asm volatile("mov %0, sp" : "=r"(sp));
  sp &= ~(uintptr_t)3u;
  if (heap_top >= sp) {
    lo = sp; /* no room to paint: reports 0 of 0 */
  } else {
    lo = sp - heap_top > M4_PAINT_MAX_BYTES ? sp - M4_PAINT_MAX_BYTES : heap_top;
    lo = (lo + 3u) & ~(uintptr_t)3u;
  }
  __asm volatile("cpsid i" ::: "memory"); /* no SysTick frame on the painted stack */
  /* Painting below the stack pointer with a loop that keeps to registers: nothing live there. */
  for (p = (volatile uint32_t*)lo; p < (volatile uint32_t*)sp; ++p) *p = M4_PAINT;
  (void)ppgkd_run(m, x, &bpm, &confidence);
  for (p = (volatile uint32_t*)lo; p < (volatile uint32_t*)sp && *p == M4_PAINT; ++p) {
  }
  __asm volatile("cpsie i" ::: "memory");
  *painted = (uint32_t)(sp - lo);
  return (uint32_t)(sp - (uintptr_t)p);
}

#endif /* __arm__ */

int main(void) {
  ppgkd_model m;
  ppgkd_status st;
  uint32_t w, i;
  ppgkd_port_init();
  st = ppgkd_init(&m, ppgkd_model_data, PPGKD_MODEL_BYTES, arena, sizeof arena);
  printf("M4B init %d blob %lu arena %lu classes %lu\n", (int)st, (unsigned long)PPGKD_MODEL_BYTES,
         (unsigned long)sizeof arena, (unsigned long)(st == PPGKD_OK ? m.num_classes : 0));
  if (st != PPGKD_OK) return 1;
  if (m.in_channels * m.in_length != M4_WINDOW_FLOATS || m.num_classes > M4_MAX_CLASSES) {
    printf("M4B error: the model's input (%lu x %lu) or classes (%lu) do not fit the windows\n",
           (unsigned long)m.in_channels, (unsigned long)m.in_length, (unsigned long)m.num_classes);
    return 1;
  }
  for (w = 0; w < M4_WINDOWS; ++w) {
    float bpm = 0.0f, confidence = 0.0f;
    uint64_t t0, t1;
    t0 = ppgkd_port_counter();
    st = ppgkd_run(&m, m4_windows[w], &bpm, &confidence);
    t1 = ppgkd_port_counter();
    printf("M4B time %lu %llu %s\n", (unsigned long)w, (unsigned long long)(t1 - t0),
           ppgkd_port_counter_unit());
    printf("M4B out %lu status %d bpm %08lx conf %08lx\n", (unsigned long)w, (int)st, bits(bpm),
           bits(confidence));
    st = ppgkd_run_logits(&m, m4_windows[w], logits, m.num_classes);
    printf("M4B logits %lu status %d", (unsigned long)w, (int)st);
    for (i = 0; i < m.num_classes; ++i) printf(" %08lx", bits(logits[i]));
    printf("\n");
    printf("M4B info %lu row %lu bpm %.3f conf %.4f\n", (unsigned long)w, m4_window_rows[w],
           (double)bpm, (double)confidence);
  }
#if defined(__arm__)
  {
    uint32_t painted = 0, used = stack_of_run(&m, m4_windows[0], &painted);
    printf("M4B stack %lu painted %lu\n", (unsigned long)used, (unsigned long)painted);
  }
#endif
  printf("M4B done\n");
  return 0;
}

#endif /* M4_DEPLOY */
