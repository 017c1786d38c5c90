/* make_seeds.c — writes valid f32 and int8 blobs (a small ResNet-like graph and an MLP) into a
 * directory, as the fuzzer's seed corpus. usage: make_seeds DIR */
#include <stdio.h>
#include <string.h>

#include "blob_builder.h"

static uint8_t data[1 << 16], out[1 << 17];
static float w[4096], bias[256];

static int write_blob(const char* dir, const char* name, size_t len) {
  char path[512];
  FILE* f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  if (!f || fwrite(out, 1, len, f) != len) return 1;
  return fclose(f) != 0;
}

int main(int argc, char** argv) {
  bb_builder b;
  bb_qparams q;
  int int8, i, rc = 0;
  if (argc != 2) return 2;
  for (i = 0; i < 4096; ++i) w[i] = (float)((i * 37) % 17 - 8) / 40.0f;
  for (i = 0; i < 256; ++i) bias[i] = (float)(i % 5) / 50.0f;
  q.scale = 0.05f, q.zero_point = -5;
  for (int8 = 0; int8 <= 1; ++int8) {
    uint32_t in, c1, c2, s, sc, p, o;
    size_t len = 0;
    bb_init(&b, int8, data, sizeof data);
    in = bb_input(&b, 2, 16, q);
    c1 = bb_conv1d(&b, in, 4, 3, 1, 1, 1, 1, w, bias, q);
    c2 = bb_conv1d(&b, c1, 4, 3, 2, 2, 2, 0, w, bias, q);
    sc = bb_conv1d(&b, c1, 4, 1, 2, 0, 1, 0, w, 0, q);
    s = bb_add(&b, c2, sc, 1, q);
    s = bb_relu(&b, s);
    p = bb_avg_pool1d(&b, s, 8, 1, q);
    b.per_tensor = 1; /* the head per tensor, as the exporter writes it (ignored in f32) */
    o = bb_dense(&b, p, 20, 0, w, bias, q);
    b.per_tensor = 0;
    rc |= bb_finish(&b, o, 20, out, sizeof out, &len) != 0;
    rc |= write_blob(argv[1], int8 ? "resnet_s8.bin" : "resnet_f32.bin", len);
    bb_init(&b, int8, data, sizeof data);
    in = bb_input(&b, 1, 8, q);
    o = bb_dense(&b, in, 16, 1, w, bias, q);
    o = bb_dense(&b, o, 12, 0, w, bias, q);
    rc |= bb_finish(&b, o, 12, out, sizeof out, &len) != 0;
    rc |= write_blob(argv[1], int8 ? "mlp_s8.bin" : "mlp_f32.bin", len);
  }
  return rc;
}
