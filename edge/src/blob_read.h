/* blob_read.h — internal: explicit little-endian decoding of blob records (format version 2,
 * ppgkd_edge_format.h) into plain structs, shared by the loader (validation) and the graph runner.
 * No struct is ever overlaid on blob bytes. Callers guarantee the record lies inside the blob
 * (the loader checks the layout before it decodes a record). */
#ifndef PPGKD_BLOB_READ_H
#define PPGKD_BLOB_READ_H

#include <stdint.h>

#include "ppgkd_edge_format.h"

static inline uint32_t ppgkd_rd32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint32_t ppgkd_rd16(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

/* Word `i` of the header. */
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

/* A tensor: an activation decoded from its record, or a constant described by its op. */
typedef struct {
  uint32_t storage, dtype, rank;
  uint32_t dim[PPGKD_MAX_RANK]; /* dims past the rank are 1 */
  uint32_t offset, size;        /* size: valid after validation (bytes of product(dims)) */
  float scale;
  int32_t zero_point;
} ppgkd_tensor_rec;

typedef struct {
  uint32_t type, activation;
  uint32_t in0, in1, out;       /* activation tensor ids; in1 only for ADD */
  uint32_t weight, bias, quant; /* data-section offsets, PPGKD_NONE where the op has none */
  uint32_t taps, stride, padding, dilation, kernel; /* 0 where the op has none */
  uint32_t bytes;                                   /* record size, 0 for an unknown type */
} ppgkd_op_rec;

static inline uint32_t ppgkd_tensor_record_bytes(int int8) {
  return int8 ? PPGKD_T_BYTES_INT8 : PPGKD_T_BYTES_F32;
}

/* Size of an op record of this type (0: unknown type). */
static inline uint32_t ppgkd_op_record_bytes(uint32_t type, int int8) {
  const uint32_t q = int8 ? PPGKD_QUANT_OFFSET_BYTES : 0;
  switch (type) {
    case PPGKD_OPT_CONV1D:
      return PPGKD_CONV_BYTES + q;
    case PPGKD_OPT_DENSE:
      return PPGKD_DENSE_BYTES + q;
    case PPGKD_OPT_ADD:
      return PPGKD_ADD_BYTES + q;
    case PPGKD_OPT_RELU:
      return PPGKD_RELU_BYTES;
    case PPGKD_OPT_AVG_POOL1D:
      return PPGKD_POOL_BYTES + q;
    default:
      return 0;
  }
}

/* Activation `id` of the tensor table (a rank-1 tensor has dim[1] = 1 in the record). */
static inline void ppgkd_read_tensor(const uint8_t* table, uint32_t id, int int8,
                                     ppgkd_tensor_rec* t) {
  const uint8_t* r = table + ppgkd_tensor_record_bytes(int8) * id;
  const uint32_t zp = r[PPGKD_T_ZERO_POINT];
  t->storage = PPGKD_STORAGE_ARENA;
  t->dtype = int8 ? PPGKD_DT_S8 : PPGKD_DT_F32;
  t->rank = r[PPGKD_T_RANK];
  t->dim[0] = ppgkd_rd16(r + PPGKD_T_DIM0);
  t->dim[1] = ppgkd_rd16(r + PPGKD_T_DIM1);
  t->dim[2] = 1;
  t->offset = ppgkd_rd32(r + PPGKD_T_OFFSET);
  t->size = t->dim[0] * t->dim[1] * (int8 ? 1u : 4u); /* < 2^34 wraps only in rejected blobs */
  t->zero_point = zp < 128 ? (int32_t)zp : (int32_t)zp - 256;
  t->scale = int8 ? ppgkd_f32_from_bits(ppgkd_rd32(r + PPGKD_T_SCALE)) : 0.0f;
}

/* The op record at `r` (the caller knows at least PPGKD_OP_COMMON_BYTES are there; the rest
 * only when o->bytes != 0 and the loader checked the table's extent). */
static inline void ppgkd_read_op(const uint8_t* r, int int8, ppgkd_op_rec* o) {
  o->type = r[PPGKD_OP_TYPE];
  o->activation = r[PPGKD_OP_ACTIVATION];
  o->in0 = ppgkd_rd16(r + PPGKD_OP_IN0);
  o->out = ppgkd_rd16(r + PPGKD_OP_OUT);
  o->in1 = PPGKD_NONE;
  o->weight = o->bias = o->quant = PPGKD_NONE;
  o->taps = o->stride = o->padding = o->dilation = o->kernel = 0;
  o->bytes = ppgkd_op_record_bytes(o->type, int8);
  switch (o->type) {
    case PPGKD_OPT_CONV1D:
      o->taps = ppgkd_rd16(r + PPGKD_CONV_TAPS);
      o->stride = ppgkd_rd16(r + PPGKD_CONV_STRIDE);
      o->padding = ppgkd_rd16(r + PPGKD_CONV_PADDING);
      o->dilation = ppgkd_rd16(r + PPGKD_CONV_DILATION);
      o->weight = ppgkd_rd32(r + PPGKD_CONV_WEIGHT);
      o->bias = ppgkd_rd32(r + PPGKD_CONV_BIAS);
      if (int8) o->quant = ppgkd_rd32(r + PPGKD_CONV_QUANT);
      break;
    case PPGKD_OPT_DENSE:
      o->weight = ppgkd_rd32(r + PPGKD_DENSE_WEIGHT);
      o->bias = ppgkd_rd32(r + PPGKD_DENSE_BIAS);
      if (int8) o->quant = ppgkd_rd32(r + PPGKD_DENSE_QUANT);
      break;
    case PPGKD_OPT_ADD:
      o->in1 = ppgkd_rd16(r + PPGKD_ADD_IN1);
      if (int8) o->quant = ppgkd_rd32(r + PPGKD_ADD_QUANT);
      break;
    case PPGKD_OPT_AVG_POOL1D:
      o->kernel = ppgkd_rd16(r + PPGKD_POOL_KERNEL);
      o->stride = ppgkd_rd16(r + PPGKD_POOL_STRIDE);
      if (int8) o->quant = ppgkd_rd32(r + PPGKD_POOL_QUANT);
      break;
    default:
      break;
  }
}

/* A constant of an op: `offset` in the data section, `rank` dims; size from the dims. */
static inline void ppgkd_const_tensor(uint32_t offset, uint32_t dtype, uint32_t rank, uint32_t d0,
                                      uint32_t d1, uint32_t d2, ppgkd_tensor_rec* t) {
  t->storage = PPGKD_STORAGE_CONST, t->dtype = dtype, t->rank = rank;
  t->dim[0] = d0, t->dim[1] = d1, t->dim[2] = d2;
  t->offset = offset;
  t->size = d0 * d1 * d2 * (dtype == PPGKD_DT_S8 ? 1u : 4u); /* checked by the loader first */
  t->scale = 0.0f, t->zero_point = 0;
}

/* Number of elements (valid after validation: the product fits in 31 bits). */
static inline uint32_t ppgkd_elems(const ppgkd_tensor_rec* t) {
  return t->dim[0] * t->dim[1] * t->dim[2];
}

#endif /* PPGKD_BLOB_READ_H */
