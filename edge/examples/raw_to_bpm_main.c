/* raw_to_bpm_main.c — runs the raw_to_bpm pipeline over a recording and prints one row per window:
 *   window,t_end_s,hr_bpm,confidence,tracked_bpm,bits
 * (bits: the IEEE bits of t_end_s, hr_bpm, confidence, tracked_bpm and the tracked confidence in
 * hex, so two platforms can be compared bit for bit), then "crc 0x... windows N" over all bits.
 * Input: on the host, CSV on stdin (a header line, then PPG[,acc_x,acc_y,acc_z] per row at the
 * bundle's input rate; the first RTB_C columns are used); built with -DRTB_EMBEDDED, the samples
 * compiled in from raw_input.c (rtb_raw_input, rtb_raw_rows), as on a board without a file
 * system. Exit status: 0, or the ppgkd_status of the first failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppgkd_edge_format.h"
#include "raw_to_bpm.h"

void ppgkd_port_init(void);

#ifdef RTB_EMBEDDED
extern const float rtb_raw_input[][4];
extern const uint32_t rtb_raw_rows;
#endif

static rtb_pipeline pipeline;
static uint32_t crc_state = 0;
static uint8_t crc_bytes[4096];
static uint32_t crc_len = 0, windows = 0;

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* The CRC of every result's bits, chained through blocks of crc_bytes. */
static void crc_add(uint32_t v) {
  uint32_t i;
  for (i = 0; i < 4; ++i) crc_bytes[crc_len++] = (uint8_t)(v >> (8 * i));
  if (crc_len == sizeof crc_bytes) {
    crc_state ^= ppgkd_crc32(crc_bytes, crc_len);
    crc_state = crc_state * 2654435761u + 1u;
    crc_len = 0;
  }
}

static void print_results(const rtb_result* r, uint32_t n) {
  uint32_t i;
  for (i = 0; i < n; ++i, ++windows) {
    const float v[5] = {r[i].t_end_s, r[i].bpm, r[i].confidence, r[i].tracked_bpm,
                        r[i].tracked_conf};
    uint32_t j;
    printf("%lu,%.2f,%.3f,%.4f,%.3f,", (unsigned long)r[i].index, (double)v[0], (double)v[1],
           (double)v[2], (double)v[3]);
    for (j = 0; j < 5; ++j) {
      printf("%08lx%s", (unsigned long)bits(v[j]), j < 4 ? ":" : "\n");
      crc_add(bits(v[j]));
    }
  }
}

static int push(const float* sample) {
  rtb_result r[8];
  uint32_t n = 0;
  const ppgkd_status s = rtb_push(&pipeline, sample, r, 8, &n);
  if (s != PPGKD_OK) {
    printf("error: %s at sample %lu\n", ppgkd_status_str(s), (unsigned long)pipeline.n_raw);
    return (int)s;
  }
  print_results(r, n);
  return 0;
}

int main(void) {
  rtb_result r[64];
  uint32_t n = 0;
  ppgkd_status s;
  int rc;
  ppgkd_port_init();
  if ((s = rtb_init(&pipeline)) != PPGKD_OK) {
    printf("error: rtb_init: %s\n", ppgkd_status_str(s));
    return (int)s;
  }
  printf("window,t_end_s,hr_bpm,confidence,tracked_bpm,bits\n");
#ifdef RTB_EMBEDDED
  {
    uint32_t i;
    for (i = 0; i < rtb_raw_rows; ++i) {
      if ((rc = push(rtb_raw_input[i])) != 0) return rc;
    }
  }
#else
  {
    char line[512];
    if (!fgets(line, sizeof line, stdin)) {
      printf("error: no header line on stdin\n");
      return 1;
    }
    while (fgets(line, sizeof line, stdin)) {
      float v[4] = {0, 0, 0, 0};
      char* at = line;
      int c;
      for (c = 0; c < 4 && *at && *at != '\n'; ++c) {
        char* end;
        v[c] = strtof(at, &end);
        if (end == at) break;
        at = *end == ',' ? end + 1 : end;
      }
      if (c < RTB_C) {
        printf("error: a row with fewer than %d numbers: %s", RTB_C, line);
        return 1;
      }
      if ((rc = push(v)) != 0) return rc;
    }
  }
#endif
  if ((s = rtb_finish(&pipeline, r, 64, &n)) != PPGKD_OK) {
    printf("error: rtb_finish: %s\n", ppgkd_status_str(s));
    return (int)s;
  }
  print_results(r, n);
  crc_state ^= ppgkd_crc32(crc_bytes, crc_len);
  printf("crc 0x%08lx windows %lu\n", (unsigned long)crc_state, (unsigned long)windows);
  return 0;
}
