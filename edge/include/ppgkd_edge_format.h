/* ppgkd_edge_format.h — the binary model blob, shared by the C runtime (edge/) and the exporter
 * (src/export). It defines constants and record layouts only; decoding lives in
 * edge/src/loader.c and the prose specification in docs/FORMAT.md.
 *
 * Layout (every field a little-endian uint32 unless stated; no struct is ever overlaid on the
 * bytes, readers decode each field explicitly):
 *
 *   [header      16 x u32 = 64 bytes]
 *   [op table    num_ops     x 16 x u32]
 *   [tensor table num_tensors x 16 x u32]
 *   [data section data_size bytes, constants at 4-byte aligned offsets]
 *   [crc32       u32: IEEE CRC-32 of every byte before it]
 *
 * total_len = 64 + 64 * (num_ops + num_tensors) + data_size + 4, exactly.
 */
#ifndef PPGKD_EDGE_FORMAT_H
#define PPGKD_EDGE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ constants */
#define PPGKD_MAGIC 0x4B475050u /* bytes 'P' 'P' 'G' 'K' read as a little-endian u32 */
#define PPGKD_VERSION 1u
#define PPGKD_RECORD_WORDS 16u /* header, op and tensor records are 16 u32 each */
#define PPGKD_RECORD_BYTES 64u
#define PPGKD_HEADER_BYTES 64u
#define PPGKD_CRC_BYTES 4u
#define PPGKD_NONE 0xFFFFFFFFu /* "no tensor" in an op's tensor slot */
#define PPGKD_MAX_OPS 256u
#define PPGKD_MAX_TENSORS 1024u
#define PPGKD_MAX_RANK 3u
#define PPGKD_ALIGN 4u /* data and arena offsets, blob and arena base addresses */

/* Header flags. Every bit not defined here must be zero. */
#define PPGKD_FLAG_INT8 0x1u /* int8 model: s8 activations/weights, s32 bias and quant tensors */

/* ------------------------------------------------------------------ header (word index) */
enum {
  PPGKD_H_MAGIC = 0,
  PPGKD_H_VERSION = 1,
  PPGKD_H_FLAGS = 2,
  PPGKD_H_TOTAL_LEN = 3,   /* bytes, including the CRC trailer */
  PPGKD_H_NUM_TENSORS = 4, /* 1..PPGKD_MAX_TENSORS */
  PPGKD_H_NUM_OPS = 5,     /* 1..PPGKD_MAX_OPS */
  PPGKD_H_INPUT = 6,       /* tensor id of the (C, L) input window */
  PPGKD_H_OUTPUT = 7,      /* tensor id of the logits (num_classes elements) */
  PPGKD_H_IN_CHANNELS = 8, /* C */
  PPGKD_H_IN_LENGTH = 9,   /* L */
  PPGKD_H_NUM_CLASSES = 10,
  PPGKD_H_DECODE_RADIUS = 11, /* bins either side of the argmax, < num_classes */
  PPGKD_H_BPM_LO = 12,        /* f32 bits: lower edge of class 0 (30.0) */
  PPGKD_H_BPM_STEP = 13,      /* f32 bits: class width in BPM (1.0) */
  PPGKD_H_ARENA_SIZE = 14,    /* bytes of arena the plan needs */
  PPGKD_H_DATA_SIZE = 15      /* bytes in the data section, a multiple of 4 */
};

/* ------------------------------------------------------------------ op record (word index) */
enum {
  PPGKD_OP_TYPE = 0,
  PPGKD_OP_ACTIVATION = 1, /* ppgkd_activation */
  PPGKD_OP_IN0 = 2,        /* main input */
  PPGKD_OP_IN1 = 3,        /* ADD: second input; else PPGKD_NONE */
  PPGKD_OP_WEIGHT = 4,     /* CONV1D, DENSE; else PPGKD_NONE */
  PPGKD_OP_BIAS = 5,       /* CONV1D, DENSE: optional (PPGKD_NONE) */
  PPGKD_OP_QUANT = 6,      /* int8 CONV1D, DENSE, ADD, AVG_POOL1D: s32 requant tensor */
  PPGKD_OP_OUT = 7,
  PPGKD_OP_STRIDE = 8,    /* CONV1D, AVG_POOL1D: >= 1; else 0 */
  PPGKD_OP_PADDING = 9,   /* CONV1D: zero padding each side; else 0 */
  PPGKD_OP_DILATION = 10, /* CONV1D: >= 1; else 0 */
  PPGKD_OP_KERNEL = 11    /* AVG_POOL1D: window length >= 1; else 0 */
  /* words 12..15 reserved, must be 0 */
};

typedef enum {
  PPGKD_OPT_CONV1D = 1,    /* (C_in, L_in) -> (C_out, L_out) */
  PPGKD_OPT_DENSE = 2,     /* any shape with N elements (flattened row-major) -> M elements */
  PPGKD_OPT_ADD = 3,       /* a + b, identical shapes */
  PPGKD_OPT_RELU = 4,      /* max(x, 0), identical shapes */
  PPGKD_OPT_AVG_POOL1D = 5 /* (C, L) -> (C, (L - kernel) / stride + 1); global: kernel = L */
} ppgkd_op_type;

typedef enum { PPGKD_ACT_NONE = 0, PPGKD_ACT_RELU = 1 } ppgkd_activation;

/* ------------------------------------------------------------------ tensor record (word index) */
enum {
  PPGKD_T_STORAGE = 0, /* ppgkd_storage */
  PPGKD_T_DTYPE = 1,   /* ppgkd_dtype */
  PPGKD_T_RANK = 2,    /* 1..PPGKD_MAX_RANK */
  PPGKD_T_DIM0 = 3,    /* dims, outermost first; dims past the rank must be 1 */
  PPGKD_T_DIM1 = 4,
  PPGKD_T_DIM2 = 5,
  PPGKD_T_OFFSET = 6,    /* ARENA: arena offset; CONST: data-section offset; multiple of 4 */
  PPGKD_T_SIZE = 7,      /* bytes, = product(dims) * dtype size */
  PPGKD_T_SCALE = 8,     /* f32 bits: s8 ARENA tensors, real = scale * (q - zero_point) */
  PPGKD_T_ZERO_POINT = 9 /* int32 bits: s8 ARENA tensors, -128..127; else 0 */
  /* words 10..15 reserved, must be 0 */
};

typedef enum { PPGKD_STORAGE_ARENA = 0, PPGKD_STORAGE_CONST = 1 } ppgkd_storage;
typedef enum { PPGKD_DT_F32 = 0, PPGKD_DT_S8 = 1, PPGKD_DT_S32 = 2 } ppgkd_dtype;

/* Shapes of tensors attached to an op (C_out output channels, C_in input channels, K taps,
 * N flattened inputs, M outputs). f32 models use f32 for all of them and have no quant tensor.
 *   CONV1D   weight (C_out, C_in, K)  f32 | s8 symmetric per output channel (no -128)
 *            bias   (C_out)           f32 | s32 at scale in_scale * w_scale[c], zero point 0
 *            quant  (2, C_out) s32    row 0: multipliers, row 1: shifts (see requantize)
 *   DENSE    weight (M, N), bias (M), quant (2, M): as CONV1D with K = 1
 *   ADD      quant  (7) s32: left_shift, mult_a, shift_a, mult_b, shift_b, mult_out, shift_out
 *   AVG_POOL1D quant (2) s32: multiplier, shift for in_scale / (out_scale * kernel)
 *   RELU     no quant tensor; int8 requires the output quantisation to equal the input's. */
#define PPGKD_ADD_QUANT_WORDS 7u
#define PPGKD_ADD_MAX_LEFT_SHIFT 20

/* IEEE 802.3 CRC-32 (reflected, polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), the one
 * zlib's crc32() computes: crc32("123456789") = 0xCBF43926. */
uint32_t ppgkd_crc32(const uint8_t* data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PPGKD_EDGE_FORMAT_H */
