/* fuzz_loader.c — libFuzzer target for the blob loader: every input is treated as a model blob;
 * ppgkd_arena_required and ppgkd_init must reject or accept it without any out-of-bounds access
 * or undefined behaviour (built with ASan + UBSan), and an accepted blob must run. Each input is
 * tried as is (exercising the CRC check) and then with its CRC trailer re-sealed, so mutations
 * reach the structural checks behind the CRC. Seeds: valid blobs written by make_seeds.c. */
#include <stdint.h>
#include <string.h>

#include "ppgkd_edge.h"
#include "ppgkd_edge_format.h"

#define MAX_BLOB (1u << 20)
#define MAX_WINDOW 4096
#define MAX_CLASSES 4096

static uint8_t blob[MAX_BLOB] __attribute__((aligned(16)));
static uint8_t arena[1u << 18] __attribute__((aligned(16)));
static float window[MAX_WINDOW], logits[MAX_CLASSES];

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void try_blob(size_t size) {
  ppgkd_model m;
  size_t need = 0, i, n;
  float bpm, conf;
  if (ppgkd_arena_required(blob, size, &need) != PPGKD_OK) return;
  if (ppgkd_init(&m, blob, size, arena, sizeof arena) != PPGKD_OK) return;
  n = (size_t)m.in_channels * m.in_length;
  if (n > MAX_WINDOW || m.num_classes > MAX_CLASSES) return;
  for (i = 0; i < n; ++i) window[i] = (float)((int)(i % 7) - 3) * 0.5f;
  (void)ppgkd_run(&m, window, &bpm, &conf);
  (void)ppgkd_run_logits(&m, window, logits, m.num_classes);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint32_t crc;
  if (size > MAX_BLOB) return 0;
  memcpy(blob, data, size); /* 16-byte aligned copy */
  try_blob(size);
  if (size < 8) return 0;
  crc = ppgkd_crc32(blob, size - 4);
  blob[size - 4] = (uint8_t)crc, blob[size - 3] = (uint8_t)(crc >> 8);
  blob[size - 2] = (uint8_t)(crc >> 16), blob[size - 1] = (uint8_t)(crc >> 24);
  try_blob(size);
  return 0;
}
