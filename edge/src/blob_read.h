/* blob_read.h — internal: explicit little-endian decoding of blob records into plain structs,
 * shared by the loader (validation) and the graph runner. No struct is ever overlaid on blob
 * bytes. Callers guarantee the record lies inside the blob (the loader checks the layout
 * before the first read). */
#ifndef PPGKD_BLOB_READ_H
#define PPGKD_BLOB_READ_H

#include <stdint.h>

#include "ppgkd_edge_format.h"

static inline uint32_t ppgkd_rd32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Word `i` of the 16-word record at `rec`. */
static inline uint32_t ppgkd_word(const uint8_t* rec, uint32_t i) {
  return ppgkd_rd32(rec + 4 * i);
}

static inline float ppgkd_f32_from_bits(uint32_t u) {
  union {
    uint32_t u;
    float f;
  } v;
  v.u = u;
  return v.f;
}

/* uint32 -> int32 without the implementation-defined conversion of values above INT32_MAX. */
static inline int32_t ppgkd_s32_from_bits(uint32_t u) {
  return u <= 0x7FFFFFFFu ? (int32_t)u : (int32_t)(u - 0x80000000u) - 0x7FFFFFFF - 1;
}

typedef struct {
  uint32_t storage, dtype, rank;
  uint32_t dim[PPGKD_MAX_RANK]; /* dims past the rank are 1 */
  uint32_t offset, size;
  float scale;
  int32_t zero_point;
} ppgkd_tensor_rec;

typedef struct {
  uint32_t type, activation;
  uint32_t in0, in1, weight, bias, quant, out;
  uint32_t stride, padding, dilation, kernel;
} ppgkd_op_rec;

static inline void ppgkd_read_tensor(const uint8_t* table, uint32_t id, ppgkd_tensor_rec* t) {
  const uint8_t* r = table + (uint32_t)PPGKD_RECORD_BYTES * id;
  uint32_t i;
  t->storage = ppgkd_word(r, PPGKD_T_STORAGE);
  t->dtype = ppgkd_word(r, PPGKD_T_DTYPE);
  t->rank = ppgkd_word(r, PPGKD_T_RANK);
  for (i = 0; i < PPGKD_MAX_RANK; ++i) t->dim[i] = ppgkd_word(r, PPGKD_T_DIM0 + i);
  t->offset = ppgkd_word(r, PPGKD_T_OFFSET);
  t->size = ppgkd_word(r, PPGKD_T_SIZE);
  t->scale = ppgkd_f32_from_bits(ppgkd_word(r, PPGKD_T_SCALE));
  t->zero_point = ppgkd_s32_from_bits(ppgkd_word(r, PPGKD_T_ZERO_POINT));
}

static inline void ppgkd_read_op(const uint8_t* table, uint32_t id, ppgkd_op_rec* o) {
  const uint8_t* r = table + (uint32_t)PPGKD_RECORD_BYTES * id;
  o->type = ppgkd_word(r, PPGKD_OP_TYPE);
  o->activation = ppgkd_word(r, PPGKD_OP_ACTIVATION);
  o->in0 = ppgkd_word(r, PPGKD_OP_IN0);
  o->in1 = ppgkd_word(r, PPGKD_OP_IN1);
  o->weight = ppgkd_word(r, PPGKD_OP_WEIGHT);
  o->bias = ppgkd_word(r, PPGKD_OP_BIAS);
  o->quant = ppgkd_word(r, PPGKD_OP_QUANT);
  o->out = ppgkd_word(r, PPGKD_OP_OUT);
  o->stride = ppgkd_word(r, PPGKD_OP_STRIDE);
  o->padding = ppgkd_word(r, PPGKD_OP_PADDING);
  o->dilation = ppgkd_word(r, PPGKD_OP_DILATION);
  o->kernel = ppgkd_word(r, PPGKD_OP_KERNEL);
}

/* Number of elements (valid after validation: the product fits in 31 bits). */
static inline uint32_t ppgkd_elems(const ppgkd_tensor_rec* t) {
  return t->dim[0] * t->dim[1] * t->dim[2];
}

#endif /* PPGKD_BLOB_READ_H */
