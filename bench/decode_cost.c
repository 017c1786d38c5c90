/* decode_cost.c — time of one per-window decode (ppgkd_decode_f32, 180 classes, radius 10) on
 * the host, for each smoothing width given on the command line (bench/decode_cost.sh builds it
 * against an edge/ directory, so two revisions can be timed side by side). A width is passed only
 * when the revision's ppgkd_decode_params has the field (PPGKD_DECODE_SMOOTH_SIGMA defined).
 * Prints the minimum over 7 runs of 20,000 decodes of one fixed pseudo-random posterior. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ppgkd_edge_ops.h"

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void time_decode(float sigma) {
  float logits[180], bpm = 0, conf = 0, sink = 0, best = 1e9f;
  ppgkd_decode_params p;
  unsigned seed = 1, i, n;
  int rep;
  p.num_classes = 180, p.radius = 10, p.bpm_lo = 30.0f, p.bpm_step = 1.0f;
#ifdef PPGKD_DECODE_SMOOTH_SIGMA
  p.smooth_sigma = sigma;
#endif
  for (i = 0; i < 180; ++i) {
    seed = seed * 1664525u + 1013904223u;
    logits[i] = (float)(seed >> 8) / 16777216.0f * 8.0f;
  }
  for (rep = 0; rep < 7; ++rep) {
    const double t0 = now_us();
    for (n = 0; n < 20000; ++n) {
      if (ppgkd_decode_f32(&p, logits, &bpm, &conf) != PPGKD_OK) exit(1);
      sink += bpm;
    }
    const float us = (float)((now_us() - t0) / 20000);
    if (us < best) best = us;
  }
  printf("decode sigma %.1f: %.2f us (min of 7 x 20000; checksum %.1f)\n", (double)sigma,
         (double)best, (double)sink);
}

int main(int argc, char** argv) {
  int i;
  if (argc < 2) time_decode(0.0f);
  for (i = 1; i < argc; ++i) time_decode((float)atof(argv[i]));
  return 0;
}
