/* decode_cost.c — cost of one per-window decode (ppgkd_decode_f32, 180 classes, radius 10) for
 * each smoothing width given on the command line and two posteriors: "flat", uniform logits in
 * [0, 8) (many classes near the maximum: the decoder's smoothing skips little), and "peaked",
 * one Gaussian bump 12 nats high and 6 classes wide over noise in [0, 1), the shape of a
 * confident network (bench/decode_cost.sh builds it against an
 * edge/ directory, so two revisions can be measured side by side). A width is passed only when
 * the revision's ppgkd_decode_params has the field (PPGKD_DECODE_SMOOTH_SIGMA defined).
 * On the host (default): microseconds, the minimum over 7 runs of 20,000 decodes of one fixed
 * pseudo-random posterior. Built with -DM4_QEMU for a Cortex-M4 under qemu -icount: instructions
 * (the port's counter), the same minimum over 7 runs of 200 decodes; the widths are then
 * compiled in (M4_SIGMAS), since the semihosted binary takes no arguments. */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ppgkd_edge_ops.h"

#ifdef M4_QEMU
#define DECODES 200u
#define UNIT "instructions"
void ppgkd_port_init(void);
uint64_t ppgkd_port_counter(void);
static double now_us(void) {
  return (double)ppgkd_port_counter();
}
#else
#define DECODES 20000u
#define UNIT "us"
static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}
#endif

static void time_decode(float sigma, int peaked) {
  float logits[180], bpm = 0, conf = 0, sink = 0, best = 1e9f;
  ppgkd_decode_params p;
  unsigned seed = 1, i, n;
  int rep;
  (void)sigma; /* unused by a revision without smoothing */
  p.num_classes = 180, p.radius = 10, p.bpm_lo = 30.0f, p.bpm_step = 1.0f;
#ifdef PPGKD_DECODE_SMOOTH_SIGMA
  p.smooth_sigma = sigma;
#endif
  for (i = 0; i < 180; ++i) {
    seed = seed * 1664525u + 1013904223u;
    logits[i] = (float)(seed >> 8) / 16777216.0f * (peaked ? 1.0f : 8.0f);
    if (peaked) {
      const float x = ((float)i - 87.3f) / 6.0f;
      logits[i] += 12.0f * expf(-x * x);
    }
  }
  for (rep = 0; rep < 7; ++rep) {
    const double t0 = now_us();
    for (n = 0; n < DECODES; ++n) {
      if (ppgkd_decode_f32(&p, logits, &bpm, &conf) != PPGKD_OK) exit(1);
      sink += bpm;
    }
    const float per = (float)((now_us() - t0) / DECODES);
    if (per < best) best = per;
  }
  printf("decode sigma %.1f %s: %.2f %s (min of 7 x %u; checksum %.1f)\n", (double)sigma,
         peaked ? "peaked" : "flat", (double)best, UNIT, DECODES, (double)sink);
}

#ifdef M4_QEMU
int main(void) {
  static const float sigmas[] = {M4_SIGMAS};
  size_t i;
  ppgkd_port_init();
  for (i = 0; i < sizeof sigmas / sizeof sigmas[0]; ++i) {
    time_decode(sigmas[i], 0);
    time_decode(sigmas[i], 1);
  }
  return 0;
}
#else
int main(int argc, char** argv) {
  int i;
  if (argc < 2) time_decode(0.0f, 0), time_decode(0.0f, 1);
  for (i = 1; i < argc; ++i) {
    time_decode((float)atof(argv[i]), 0);
    time_decode((float)atof(argv[i]), 1);
  }
  return 0;
}
#endif
