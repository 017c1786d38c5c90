/* ppgkd_edge_format.h — the binary model blob, shared by the C runtime (edge/) and the exporter
 * (src/export). It defines constants and record layouts only; decoding lives in
 * edge/src/blob_read.h and edge/src/loader.c, the prose specification in docs/FORMAT.md.
 *
 * Version 3. Every field is little-endian, of the width given, at the byte offset given, with no
 * alignment inside the tables (no struct is ever overlaid on the bytes; readers decode each field
 * explicitly):
 *
 *   [header        17 x u32 = 68 bytes]
 *   [op table      ops_bytes: num_ops records in execution order, each sized by its type]
 *   [tensor table  num_tensors x 10 bytes (f32) or 14 bytes (int8): activations only]
 *   [0..3 zero bytes up to a multiple of 4]
 *   [data section  data_size bytes: the ops' constants in op order, each 4-byte aligned]
 *   [crc32         u32: IEEE CRC-32 of every byte before it]
 *
 * Constants (weights, biases, requantisation) have neither records nor offsets: they follow each
 * other in the data section in op order (each op's in a fixed order), each at the next multiple
 * of 4, and their shapes follow from the op and its activations. Requantisation constants are
 * compact: a u16 multiplier (the int32 multiplier shifted right by 15) and an s8 shift per entry.
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
#define PPGKD_VERSION 3u        /* versions 1 and 2 are refused */
#define PPGKD_HEADER_WORDS 17u
#define PPGKD_HEADER_BYTES 68u
#define PPGKD_CRC_BYTES 4u
#define PPGKD_NONE 0xFFFFFFFFu /* decoded offset of a constant an op does not have */
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
 * Every op starts with type (u8), flags (u8), in0 (u16 tensor id), out (u16 tensor id). What
 * follows depends on the type only (f32 and int8 records are the same size). */
enum {
  PPGKD_OP_TYPE = 0,  /* u8 ppgkd_op_type */
  PPGKD_OP_FLAGS = 1, /* u8 PPGKD_OPF_* bits, every other bit zero */
  PPGKD_OP_IN0 = 2,   /* u16 main input */
  PPGKD_OP_OUT = 4,   /* u16 output */
  PPGKD_OP_COMMON_BYTES = 6,
  /* CONV1D: (C_in, L_in) -> (C_out, L_out); weight (C_out, C_in, taps), bias (C_out) */
  PPGKD_CONV_TAPS = 6,     /* u8 K >= 1 */
  PPGKD_CONV_STRIDE = 7,   /* u8 >= 1 */
  PPGKD_CONV_PADDING = 8,  /* u8 zeros each side */
  PPGKD_CONV_DILATION = 9, /* u8 >= 1 */
  PPGKD_CONV_BYTES = 10,
  /* DENSE: N = elements of in0 -> M = elements of out; weight (M, N), bias (M) */
  PPGKD_DENSE_BYTES = 6,
  /* ADD: in0 + in1 */
  PPGKD_ADD_IN1 = 6, /* u16 second input */
  PPGKD_ADD_BYTES = 8,
  /* RELU */
  PPGKD_RELU_BYTES = 6,
  /* AVG_POOL1D */
  PPGKD_POOL_KERNEL = 6, /* u16, 1..L_in (global: L_in) */
  PPGKD_POOL_STRIDE = 8, /* u16 >= 1 */
  PPGKD_POOL_BYTES = 10
};

/* Op flags (byte PPGKD_OP_FLAGS). */
#define PPGKD_OPF_RELU 0x1u       /* fused ReLU on the output (never on RELU itself) */
#define PPGKD_OPF_BIAS 0x2u       /* CONV1D, DENSE: a bias constant follows the weight */
#define PPGKD_OPF_PER_TENSOR 0x4u /* int8 CONV1D, DENSE: one requantisation entry for all rows */

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

/* Constants of an op, in data-section order (C_out output channels, C_in input channels, K taps,
 * N flattened inputs, M outputs). f32 models use f32 for weight and bias and have no quant.
 *   CONV1D   weight (C_out, C_in, K)  f32 | s8 symmetric per output channel (no -128)
 *            bias   (C_out)           f32 | s32 at scale in_scale * w_scale[c], zero point 0;
 *                                     present when the op has PPGKD_OPF_BIAS
 *            quant  n entries         int8: n = C_out, or 1 with PPGKD_OPF_PER_TENSOR
 *   DENSE    weight (M, N), bias (M), quant: as CONV1D with K = 1
 *   ADD      quant  3 entries (a, b, out) then u8 left_shift (0..PPGKD_ADD_MAX_LEFT_SHIFT)
 *   AVG_POOL1D quant 1 entry: in_scale / (out_scale * kernel)
 *   RELU     nothing; int8 requires the output quantisation to equal the input's.
 * A quant constant of n entries is u16 multipliers [n] then s8 shifts [n] (3n bytes, plus ADD's
 * left shift): entry i requantises by (multiplier[i] << PPGKD_RQ_MULT_SHIFT) * 2^(shift[i] - 31),
 * see ppgkd_requantize; the exporter normalises multipliers into [2^15, 2^16). */
#define PPGKD_RQ_MULT_SHIFT 15
#define PPGKD_RQ_ENTRY_BYTES 3u
#define PPGKD_ADD_RQ_ENTRIES 3u
#define PPGKD_ADD_MAX_LEFT_SHIFT 20

/* IEEE 802.3 CRC-32 (reflected, polynomial 0xEDB88320, init and final xor 0xFFFFFFFF), the one
 * zlib's crc32() computes: crc32("123456789") = 0xCBF43926. */
uint32_t ppgkd_crc32(const uint8_t* data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PPGKD_EDGE_FORMAT_H */
