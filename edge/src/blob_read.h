/* blob_read.h — internal: explicit little-endian decoding of blob records (format version 3,
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
  uint32_t type, flags, activation; /* activation: flags & PPGKD_OPF_RELU */
  uint32_t in0, in1, out;           /* activation tensor ids; in1 only for ADD */
  uint32_t weight, bias, quant; /* data-section offsets (ppgkd_layout_consts), else PPGKD_NONE */
  uint32_t taps, stride, padding, dilation, kernel; /* 0 where the op has none */
  uint32_t bytes;                                   /* record size, 0 for an unknown type */
} ppgkd_op_rec;

static inline uint32_t ppgkd_tensor_record_bytes(int int8) {
  return int8 ? PPGKD_T_BYTES_INT8 : PPGKD_T_BYTES_F32;
}

/* Size of an op record of this type (0: unknown type); the same in f32 and int8 models. */
static inline uint32_t ppgkd_op_record_bytes(uint32_t type) {
  switch (type) {
    case PPGKD_OPT_CONV1D:
      return PPGKD_CONV_BYTES;
    case PPGKD_OPT_DENSE:
      return PPGKD_DENSE_BYTES;
    case PPGKD_OPT_ADD:
      return PPGKD_ADD_BYTES;
    case PPGKD_OPT_RELU:
      return PPGKD_RELU_BYTES;
    case PPGKD_OPT_AVG_POOL1D:
      return PPGKD_POOL_BYTES;
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
 * only when o->bytes != 0 and the loader checked the table's extent). Constant offsets are
 * PPGKD_NONE until ppgkd_layout_consts places them. */
static inline void ppgkd_read_op(const uint8_t* r, ppgkd_op_rec* o) {
  o->type = r[PPGKD_OP_TYPE];
  o->flags = r[PPGKD_OP_FLAGS];
  o->activation = o->flags & PPGKD_OPF_RELU;
  o->in0 = ppgkd_rd16(r + PPGKD_OP_IN0);
  o->out = ppgkd_rd16(r + PPGKD_OP_OUT);
  o->in1 = PPGKD_NONE;
  o->weight = o->bias = o->quant = PPGKD_NONE;
  o->taps = o->stride = o->padding = o->dilation = o->kernel = 0;
  o->bytes = ppgkd_op_record_bytes(o->type);
  switch (o->type) {
    case PPGKD_OPT_CONV1D:
      o->taps = r[PPGKD_CONV_TAPS];
      o->stride = r[PPGKD_CONV_STRIDE];
      o->padding = r[PPGKD_CONV_PADDING];
      o->dilation = r[PPGKD_CONV_DILATION];
      break;
    case PPGKD_OPT_ADD:
      o->in1 = ppgkd_rd16(r + PPGKD_ADD_IN1);
      break;
    case PPGKD_OPT_AVG_POOL1D:
      o->kernel = ppgkd_rd16(r + PPGKD_POOL_KERNEL);
      o->stride = ppgkd_rd16(r + PPGKD_POOL_STRIDE);
      break;
    default:
      break;
  }
}

/* ------------------------------------------------------------------ constants */

#define PPGKD_BYTES_TOO_MANY 0x100000000ull /* a saturated size: more than any blob holds */

/* Bytes of a d0 x d1 x d2 constant of `elem`-byte elements, saturated at PPGKD_BYTES_TOO_MANY
 * (each factor < 2^32, so no product below wraps 64 bits). */
static inline uint64_t ppgkd_const_bytes(uint32_t d0, uint32_t d1, uint32_t d2, uint32_t elem) {
  uint64_t n = (uint64_t)d0 * d1;
  if (n >= PPGKD_BYTES_TOO_MANY) return PPGKD_BYTES_TOO_MANY;
  n *= d2;
  if (n >= PPGKD_BYTES_TOO_MANY) return PPGKD_BYTES_TOO_MANY;
  n *= elem;
  return n >= PPGKD_BYTES_TOO_MANY ? PPGKD_BYTES_TOO_MANY : n;
}

/* Sizes in bytes of an op's constants, 0 where it has none (docs/FORMAT.md, "Constants"). */
typedef struct {
  uint64_t weight, bias, quant;
  uint32_t rows, n_in, taps; /* CONV1D, DENSE: output rows, inputs per row per tap, taps */
  uint32_t entries;          /* requantisation entries of the quant constant */
} ppgkd_const_sizes;

static inline uint32_t ppgkd_elems(const ppgkd_tensor_rec* t);

static inline void ppgkd_op_const_sizes(const ppgkd_op_rec* o, const ppgkd_tensor_rec* in,
                                        const ppgkd_tensor_rec* out, int int8,
                                        ppgkd_const_sizes* s) {
  s->weight = s->bias = s->quant = 0;
  s->rows = s->n_in = s->taps = s->entries = 0;
  switch (o->type) {
    case PPGKD_OPT_CONV1D:
    case PPGKD_OPT_DENSE:
      if (o->type == PPGKD_OPT_CONV1D) {
        s->rows = out->dim[0], s->n_in = in->dim[0], s->taps = o->taps;
      } else {
        s->rows = ppgkd_elems(out), s->n_in = ppgkd_elems(in), s->taps = 1;
      }
      s->weight = ppgkd_const_bytes(s->rows, s->n_in, s->taps, int8 ? 1u : 4u);
      if (o->flags & PPGKD_OPF_BIAS) s->bias = ppgkd_const_bytes(s->rows, 1, 1, 4);
      if (int8) {
        s->entries = (o->flags & PPGKD_OPF_PER_TENSOR) ? 1u : s->rows;
        s->quant = ppgkd_const_bytes(s->entries, 1, 1, PPGKD_RQ_ENTRY_BYTES);
      }
      break;
    case PPGKD_OPT_ADD:
      if (int8) {
        s->entries = PPGKD_ADD_RQ_ENTRIES;
        s->quant = PPGKD_ADD_RQ_ENTRIES * PPGKD_RQ_ENTRY_BYTES + 1u; /* + left shift */
      }
      break;
    case PPGKD_OPT_AVG_POOL1D:
      if (int8) s->entries = 1, s->quant = PPGKD_RQ_ENTRY_BYTES;
      break;
    default:
      break;
  }
}

static inline uint64_t ppgkd_align4(uint64_t n) {
  return (n + (PPGKD_ALIGN - 1u)) / PPGKD_ALIGN * PPGKD_ALIGN;
}

/* Places an op's constants one after the other from data offset `at` (a multiple of 4), each at
 * a multiple of 4: sets o->weight, o->bias, o->quant (PPGKD_NONE where absent) and returns the
 * offset after the last (rounded up to 4). 64-bit so a hostile blob cannot wrap it; the offsets
 * are only meaningful when the loader found the returned end <= data_size. */
static inline uint64_t ppgkd_layout_consts(ppgkd_op_rec* o, const ppgkd_const_sizes* s,
                                           uint64_t at) {
  o->weight = o->bias = o->quant = PPGKD_NONE;
  if (s->weight) o->weight = (uint32_t)at, at = ppgkd_align4(at + s->weight);
  if (s->bias) o->bias = (uint32_t)at, at = ppgkd_align4(at + s->bias);
  if (s->quant) o->quant = (uint32_t)at, at = ppgkd_align4(at + s->quant);
  return at;
}

/* Entry i of a quant constant of n entries at `q`: the int32 multiplier and the shift. */
static inline void ppgkd_rq_entry(const uint8_t* q, uint32_t n, uint32_t i, int32_t* multiplier,
                                  int32_t* shift) {
  const uint32_t s = q[2 * n + i];
  *multiplier = (int32_t)(ppgkd_rd16(q + 2 * i) << PPGKD_RQ_MULT_SHIFT);
  *shift = s < 128 ? (int32_t)s : (int32_t)s - 256;
}

/* Number of elements (valid after validation: the product fits in 31 bits). */
static inline uint32_t ppgkd_elems(const ppgkd_tensor_rec* t) {
  return t->dim[0] * t->dim[1] * t->dim[2];
}

#endif /* PPGKD_BLOB_READ_H */
