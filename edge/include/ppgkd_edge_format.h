/* ppgkd_edge_format.h — the binary model blob, shared by the C runtime (edge/) and the exporter
 * (src/export). It defines constants and record layouts only; decoding lives in
 * edge/src/blob_read.h and edge/src/loader.c, the prose specification in docs/FORMAT.md.
 *
 * Version 2 (compact). Every field is little-endian, of the width given, at the byte offset
 * given, with no alignment inside the tables (no struct is ever overlaid on the bytes; readers
 * decode each field explicitly):
 *
 *   [header        17 x u32 = 68 bytes]
 *   [op table      ops_bytes: num_ops records in execution order, each sized by its type]
 *   [tensor table  num_tensors x 10 bytes (f32) or 14 bytes (int8): activations only]
 *   [0..3 zero bytes up to a multiple of 4]
 *   [data section  data_size bytes: weights, biases, requantisation, each 4-byte aligned]
 *   [crc32         u32: IEEE CRC-32 of every byte before it]
 *
 * Constants (weights, biases, requantisation) have no records: an op names the data-section
 * offset of each, and their shapes follow from the op and its activations.
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
#define PPGKD_VERSION 2u        /* version 1 (fixed 64-byte records) is refused */
#define PPGKD_HEADER_WORDS 17u
#define PPGKD_HEADER_BYTES 68u
#define PPGKD_CRC_BYTES 4u
#define PPGKD_NONE 0xFFFFFFFFu /* "no bias" in an op's bias offset */
#define PPGKD_MAX_OPS 256u
#define PPGKD_MAX_TENSORS 1024u /* activation tensors */
#define PPGKD_MAX_RANK 3u       /* of constants; activations have rank 1 or 2 */
#define PPGKD_ALIGN 4u          /* data and arena offsets, blob and arena base addresses */

/* Header flags. Every bit not defined here must be zero. */
#define PPGKD_FLAG_INT8 0x1u /* int8 model: s8 activations/weights, s32 bias and quant tensors */

/* ------------------------------------------------------------------ header (u32 word index) */
enum {
  PPGKD_H_MAGIC = 0,
  PPGKD_H_VERSION = 1,
  PPGKD_H_FLAGS = 2,
  PPGKD_H_TOTAL_LEN = 3,   /* bytes, including the CRC trailer */
  PPGKD_H_NUM_TENSORS = 4, /* activation tensors, 1..PPGKD_MAX_TENSORS */
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
  PPGKD_H_DATA_SIZE = 15,     /* bytes in the data section, a multiple of 4 */
  PPGKD_H_OPS_BYTES = 16      /* bytes of the op table */
};

/* ------------------------------------------------------------------ op records (byte offsets)
 * Every op starts with type (u8), activation (u8), in0 (u16 tensor id), out (u16 tensor id).
 * What follows depends on the type; `_BYTES` is the record size of an f32 model, int8 models
 * add the u32 offset of the requantisation constant (`_QUANT`) except for RELU.
 * Offsets of constants (u32) are data-section byte offsets, multiples of 4. */
enum {
  PPGKD_OP_TYPE = 0,       /* u8 ppgkd_op_type */
  PPGKD_OP_ACTIVATION = 1, /* u8 ppgkd_activation */
  PPGKD_OP_IN0 = 2,        /* u16 main input */
  PPGKD_OP_OUT = 4,        /* u16 output */
  PPGKD_OP_COMMON_BYTES = 6,
  /* CONV1D: (C_in, L_in) -> (C_out, L_out); weight (C_out, C_in, taps), bias (C_out) */
  PPGKD_CONV_TAPS = 6,      /* u16 K >= 1 */
  PPGKD_CONV_STRIDE = 8,    /* u16 >= 1 */
  PPGKD_CONV_PADDING = 10,  /* u16 zeros each side */
  PPGKD_CONV_DILATION = 12, /* u16 >= 1 */
  PPGKD_CONV_WEIGHT = 14,   /* u32 */
  PPGKD_CONV_BIAS = 18,     /* u32, or PPGKD_NONE */
  PPGKD_CONV_QUANT = 22,    /* u32, int8 only: (2, C_out) s32 */
  PPGKD_CONV_BYTES = 22,
  /* DENSE: N = elements of in0 -> M = elements of out; weight (M, N), bias (M) */
  PPGKD_DENSE_WEIGHT = 6, /* u32 */
  PPGKD_DENSE_BIAS = 10,  /* u32, or PPGKD_NONE */
  PPGKD_DENSE_QUANT = 14, /* u32, int8 only: (2, M) s32 */
  PPGKD_DENSE_BYTES = 14,
  /* ADD: in0 + in1 */
  PPGKD_ADD_IN1 = 6,   /* u16 second input */
  PPGKD_ADD_QUANT = 8, /* u32, int8 only: (7) s32 */
  PPGKD_ADD_BYTES = 8,
  /* RELU */
  PPGKD_RELU_BYTES = 6,
  /* AVG_POOL1D */
  PPGKD_POOL_KERNEL = 6, /* u16, 1..L_in (global: L_in) */
  PPGKD_POOL_STRIDE = 8, /* u16 >= 1 */
  PPGKD_POOL_QUANT = 10, /* u32, int8 only: (2) s32 */
  PPGKD_POOL_BYTES = 10,
  PPGKD_QUANT_OFFSET_BYTES = 4 /* what int8 adds to CONV1D, DENSE, ADD and AVG_POOL1D */
};

typedef enum {
  PPGKD_OPT_CONV1D = 1,    /* (C_in, L_in) -> (C_out, L_out) */
  PPGKD_OPT_DENSE = 2,     /* any shape with N elements (flattened row-major) -> M elements */
  PPGKD_OPT_ADD = 3,       /* a + b, identical shapes */
  PPGKD_OPT_RELU = 4,      /* max(x, 0), identical shapes */
  PPGKD_OPT_AVG_POOL1D = 5 /* (C, L) -> (C, (L - kernel) / stride + 1); global: kernel = L */
} ppgkd_op_type;

typedef enum { PPGKD_ACT_NONE = 0, PPGKD_ACT_RELU = 1 } ppgkd_activation;

/* ------------------------------------------------------------------ tensor records (byte offsets)
 * Activation tensors only; they live in the caller's arena. Fixed size per model kind. */
enum {
  PPGKD_T_RANK = 0,       /* u8: 1 (N) or 2 (C, L) */
  PPGKD_T_ZERO_POINT = 1, /* s8: int8 models; 0 in f32 models */
  PPGKD_T_DIM0 = 2,       /* u16 >= 1 */
  PPGKD_T_DIM1 = 4,       /* u16 >= 1; 1 when rank is 1 */
  PPGKD_T_OFFSET = 6,     /* u32 arena byte offset, multiple of 4 */
  PPGKD_T_SCALE = 10,     /* f32, int8 models only: real = scale * (q - zero_point) */
  PPGKD_T_BYTES_F32 = 10,
  PPGKD_T_BYTES_INT8 = 14
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
