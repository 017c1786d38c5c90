/* blob_builder.h — a host-side (test-only) writer of ppgkd model blobs in plain C, so the runtime
 * is tested without libtorch. It is heap-free (fixed tables, caller buffers) so the same tests
 * run on the Cortex-M4. It quantises float weights to int8 (per-channel symmetric) from
 * caller-supplied activation quantisation, plans the arena greedily by tensor lifetime, and
 * writes header, records, data and CRC. It is not the exporter (src/export), only its twin for
 * tests, and it trusts its caller. */
#ifndef PPGKD_BLOB_BUILDER_H
#define PPGKD_BLOB_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "ppgkd_edge_format.h"

#define BB_MAX_OPS 64
#define BB_MAX_TENSORS 256

/* Activation quantisation (int8 models; ignored for f32): real = scale * (q - zero_point). */
typedef struct {
  float scale;
  int32_t zero_point;
} bb_qparams;

/* An activation tensor being built (a record of the tensor table). */
typedef struct {
  uint32_t rank, dim0, dim1, offset, size;
  float scale;
  int32_t zero_point;
} bb_tensor;

/* An op being built: flags (PPGKD_OPF_*), activation ids, data-section offsets of its constants
 * (PPGKD_NONE: none; the blob does not store them, constants follow each other in op order). */
typedef struct {
  uint32_t type, activation, in0, in1, out; /* activation: the record's flags byte */
  uint32_t weight, bias, quant;
  uint32_t taps, stride, padding, dilation, kernel;
} bb_op;

typedef struct {
  int int8;
  int per_tensor; /* int8 conv1d/dense added while set: one weight scale and quant entry */
  bb_op ops[BB_MAX_OPS];
  bb_tensor tensors[BB_MAX_TENSORS]; /* activations; the ids the builder returns */
  uint32_t num_ops, num_tensors;
  uint8_t* data; /* data section being built */
  uint32_t data_cap, data_size;
  uint32_t input, in_channels, in_length;
  int error; /* set when a table or buffer overflows; bb_finish then fails */
} bb_builder;

/* Qparams covering [lo, hi] (widened to include 0) with 256 levels. */
bb_qparams bb_qparams_from_range(float lo, float hi);

/* real (> 0) -> the blob's u16 multiplier in [2^15, 2^16) and shift with
 * real ~= (multiplier << 15) * 2^(shift - 31); real == 0 gives (0, 0). As the exporter's
 * quantize_multiplier, computed in double on the host. */
void bb_quantize_multiplier(double real, int32_t* multiplier, int32_t* shift);

void bb_init(bb_builder* b, int int8, uint8_t* data_buf, uint32_t data_cap);

/* Each returns the new output tensor id. Weights in PyTorch layouts (see ppgkd_edge_ops.h);
 * bias may be NULL. */
uint32_t bb_input(bb_builder* b, uint32_t channels, uint32_t length, bb_qparams q);
uint32_t bb_conv1d(bb_builder* b, uint32_t in, uint32_t c_out, uint32_t k, uint32_t stride,
                   uint32_t padding, uint32_t dilation, int relu, const float* w, const float* bias,
                   bb_qparams q_out);
uint32_t bb_dense(bb_builder* b, uint32_t in, uint32_t m, int relu, const float* w,
                  const float* bias, bb_qparams q_out);
uint32_t bb_add(bb_builder* b, uint32_t a, uint32_t c, int relu, bb_qparams q_out);
uint32_t bb_relu(bb_builder* b, uint32_t in);
uint32_t bb_avg_pool1d(bb_builder* b, uint32_t in, uint32_t kernel, uint32_t stride,
                       bb_qparams q_out);

/* Plans the arena and writes the blob into out[cap]; *len gets its size. Returns 0 on success,
 * -1 when the builder overflowed or out is too small. */
int bb_finish(bb_builder* b, uint32_t output, uint32_t num_classes, uint8_t* out, size_t cap,
              size_t* len);

/* ---- for loader tests: byte offsets of records and sections in a finished blob (walking the
 * op table by record size), fields of 1, 2 or 4 bytes, re-CRC */
size_t bb_op_offset(const uint8_t* blob, uint32_t op);
size_t bb_tensor_offset(const uint8_t* blob, uint32_t tensor);
size_t bb_data_offset(const uint8_t* blob);
uint32_t bb_get_word(const uint8_t* blob, size_t byte_offset);
void bb_set_word(uint8_t* blob, size_t byte_offset, uint32_t value);
uint32_t bb_get_u16(const uint8_t* blob, size_t byte_offset);
void bb_set_u16(uint8_t* blob, size_t byte_offset, uint32_t value);
void bb_fix_crc(uint8_t* blob, size_t len);

#endif /* PPGKD_BLOB_BUILDER_H */
