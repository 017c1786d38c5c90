/* ppgkd_edge_ops.h — the kernel API of the C99 runtime: one op per file in edge/src/ops/, each
 * with an _f32 and an _s8 variant. The plain loops documented here are the specification: add,
 * relu and avg_pool1d are those loops; conv1d and dense are register-tiled (border/interior split,
 * several outputs per pass) and bit-exact against them (their plain loops are kept in
 * edge/tests/test_ops.c, which compares the two on random shapes).
 *
 * One API shape throughout (as CMSIS-NN's arm_nnfunctions.h):
 *     status = ppgkd_<op>_<dtype>(ctx, op params, quant params, dims, data, ..., dims, out);
 * Kernels never allocate, never read outside the dims given, check only O(1) dims consistency
 * and return a status. The graph loader (loader.c) validates everything else once at init.
 *
 * Layouts (row-major, outermost first, PyTorch's order so the exporter copies tensors as is):
 *   activation (C, L)          x[c * L + l]
 *   conv1d weight (C_out, C_in, K)   w[(co * C_in + ci) * K + k]
 *   dense weight (M, N)        w[m * N + n]; the input is any (C, L) flattened to N = C * L
 *   bias (C_out) or (M)
 * int8 quantisation: real = scale * (q - zero_point); weights symmetric per output channel
 * (zero point 0, values in -127..127); bias int32 at scale in_scale * w_scale[c].
 */
#ifndef PPGKD_EDGE_OPS_H
#define PPGKD_EDGE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "ppgkd_edge.h"
#include "ppgkd_edge_format.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ common types */

/* Scratch memory a kernel may use (buf 4-byte aligned, size bytes; buf may be NULL). Only the
 * fast int8 conv1d (Arm DSP) and the fast int8 add use it, as much as
 * ppgkd_conv1d_s8_scratch_bytes / ppgkd_add_s8_scratch_bytes say; with less they run their
 * portable loops (the same bits, slower). Every other kernel ignores it. The graph passes the
 * scratch the loader reserved at the end of the arena. */
typedef struct {
  void* buf;
  size_t size;
} ppgkd_context;

/* Dimensions, meaning per argument:
 *   activation      n = 1, c = channels, l = length
 *   conv1d weight   n = C_out, c = C_in, l = K
 *   dense weight    n = M, c = N, l = 1
 *   bias            n = C_out (or M), c = 1, l = 1
 * All fields >= 1. */
typedef struct {
  int32_t n;
  int32_t c;
  int32_t l;
} ppgkd_dims;

/* One requantisation (avg pool, the three scalings of add). */
typedef struct {
  int32_t multiplier; /* 0..INT32_MAX */
  int32_t shift;      /* PPGKD_SHIFT_MIN..PPGKD_SHIFT_MAX */
} ppgkd_quant;

/* Per-output-channel requantisation (int8 conv1d and dense), read in place from the blob:
 * effective scale in_scale * w_scale[c] / out_scale as
 * (multiplier[c] << PPGKD_RQ_MULT_SHIFT) * 2^(shift[c] - 31), see ppgkd_requantize. A per-tensor
 * layer (one weight scale for every row) stores one entry that serves every channel. */
typedef struct {
  const uint16_t* multiplier; /* [C_out] (or [1] when per_tensor), 0..65535 */
  const int8_t* shift;        /* [C_out] (or [1]), PPGKD_SHIFT_MIN..PPGKD_SHIFT_MAX */
  int32_t per_tensor;         /* 0: entry c for channel c; 1: entry 0 for every channel */
} ppgkd_per_channel_quant;

/* The requantisation of channel c (what every kernel, reference or fast, applies to it). */
static inline ppgkd_quant ppgkd_channel_quant(const ppgkd_per_channel_quant* q, int32_t c) {
  const int32_t i = q->per_tensor ? 0 : c;
  ppgkd_quant r;
  r.multiplier = (int32_t)((uint32_t)q->multiplier[i] << PPGKD_RQ_MULT_SHIFT);
  r.shift = q->shift[i];
  return r;
}

#define PPGKD_SHIFT_MIN (-31)
#define PPGKD_SHIFT_MAX 30

/* ------------------------------------------------------------------ requantisation */

/* round(val * multiplier * 2^(shift - 31)), rounding halves towards +infinity, saturated to the
 * int32 range. This is CMSIS-NN's single-rounding arm_nn_requantize: the product is formed in
 * int64 (|val * multiplier| < 2^62 cannot overflow) and shifted right by 31 - shift in 1..62.
 * multiplier: 0..INT32_MAX (the exporter normalises it to [2^30, 2^31) for full precision);
 * shift: PPGKD_SHIFT_MIN..PPGKD_SHIFT_MAX (outside that range the result is 0). */
int32_t ppgkd_requantize(int32_t val, int32_t multiplier, int32_t shift);

/* The model input quantised: out[i] = clamp(round(x[i] / scale + zero_point), -128, 127), the
 * division and the addition in float, the clamp to -128..127 in float before the rounding
 * (halves away from zero: v + 0.5 or v - 0.5 in float, then truncated). PPGKD_ERR_INPUT when some
 * x[i] is NaN or infinite (out may then be partly written); scale > 0 and finite. One pass, the
 * clamp and the finiteness check on a rare branch (see requantize.c). */
ppgkd_status ppgkd_quantize_input_s8(const float* x, uint32_t n, float scale, int32_t zero_point,
                                     int8_t* out);

/* Accumulator bound. An int8 dot product over n_terms = C_in * K (conv1d) or N (dense) terms
 * sums w * (x - zp_in) with |w| <= 127 (symmetric weights exclude -128) and
 * |x - zp_in| <= 255 (x and zp_in both in -128..127), so
 *     |acc| <= |bias| + n_terms * 127 * 255.
 * (With a symmetric input, zp_in = 0, the per-term bound is 127 * 128.) The int32 accumulator
 * cannot overflow when that bound is <= INT32_MAX, i.e. n_terms <= 66311 with no bias. The
 * loader rejects any layer that fails this (PPGKD_ERR_ACC_OVERFLOW); the exporter calls this
 * per layer to fail early. Returns 1 when the int32 accumulator is safe, 0 otherwise. */
int ppgkd_s8_accumulator_fits(uint32_t n_terms, uint32_t max_abs_bias);

/* ------------------------------------------------------------------ conv1d (conv1d.c) */

typedef struct {
  int32_t stride;   /* >= 1 */
  int32_t padding;  /* >= 0, implicit zeros (int8: zero_point) on both ends */
  int32_t dilation; /* >= 1 */
  int32_t relu;     /* 0 or 1: fused max(., 0) on the output */
} ppgkd_conv1d_params;

/* L_out = (L_in + 2 * padding - dilation * (K - 1) - 1) / stride + 1 (must be >= 1). */
int32_t ppgkd_conv1d_out_length(int32_t l_in, int32_t k, const ppgkd_conv1d_params* p);

/* y[co, t] = b[co] + sum_{ci, k} w[co, ci, k] * x[ci, t * stride - padding + k * dilation]
 * in_dims (1, C_in, L_in), w_dims (C_out, C_in, K), bias_dims (C_out, 1, 1) or bias NULL,
 * out_dims (1, C_out, L_out). Returns PPGKD_ERR_SHAPE when the dims disagree. */
ppgkd_status ppgkd_conv1d_f32(const ppgkd_context* ctx, const ppgkd_conv1d_params* p,
                              const ppgkd_dims* in_dims, const float* in, const ppgkd_dims* w_dims,
                              const float* w, const ppgkd_dims* bias_dims, const float* bias,
                              const ppgkd_dims* out_dims, float* out);

/* int8 quantisation of an op's activations: zero points and the saturation range of the output
 * (act_min = out zero point for a fused ReLU, else -128; act_max = 127). */
typedef struct {
  int32_t in_zp;   /* -128..127 */
  int32_t out_zp;  /* -128..127 */
  int32_t act_min; /* -128..act_max */
  int32_t act_max; /* act_min..127 */
} ppgkd_s8_act;

/* int8 conv1d: acc = bias[co] + sum w * (x - in_zp) over taps inside the input (padding adds
 * nothing: a padded x equals in_zp); y = clamp(requantize(acc, q[co]) + out_zp, act_min,
 * act_max). Dims as ppgkd_conv1d_f32; bias is s32 or NULL; p->relu is ignored (act_min holds
 * it). The caller guarantees ppgkd_s8_accumulator_fits(C_in * K, max |bias|). */
/* Scratch bytes ppgkd_conv1d_s8 wants in ctx for this shape: what the Arm DSP kernels use
 * (input rows and a channel pair's weights widened to int16, the sums of a block; or im2col
 * columns), plus 4 bytes to align it to 8. The same number in every build (0 when the DSP
 * kernels would not take the shape, or for bad arguments), so an arena sized on the host fits
 * the Cortex-M4; portable and AVX2 kernels ignore the scratch. */
size_t ppgkd_conv1d_s8_scratch_bytes(const ppgkd_conv1d_params* p, int32_t c_in, int32_t c_out,
                                     int32_t k, int32_t l_out);

ppgkd_status ppgkd_conv1d_s8(const ppgkd_context* ctx, const ppgkd_conv1d_params* p,
                             const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                             const ppgkd_dims* in_dims, const int8_t* in, const ppgkd_dims* w_dims,
                             const int8_t* w, const ppgkd_dims* bias_dims, const int32_t* bias,
                             const ppgkd_dims* out_dims, int8_t* out);

/* ------------------------------------------------------------------ dense (dense.c) */

typedef struct {
  int32_t relu; /* 0 or 1 */
} ppgkd_dense_params;

/* y[m] = b[m] + sum_n w[m, n] * x[n]. in_dims any with n*c*l = N, w_dims (M, N, 1),
 * bias_dims (M, 1, 1) or bias NULL, out_dims with n*c*l = M. */
ppgkd_status ppgkd_dense_f32(const ppgkd_context* ctx, const ppgkd_dense_params* p,
                             const ppgkd_dims* in_dims, const float* in, const ppgkd_dims* w_dims,
                             const float* w, const ppgkd_dims* bias_dims, const float* bias,
                             const ppgkd_dims* out_dims, float* out);

/* int8 dense: as conv1d_s8 with K = 1 and C_in = N. */
ppgkd_status ppgkd_dense_s8(const ppgkd_context* ctx, const ppgkd_dense_params* p,
                            const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                            const ppgkd_dims* in_dims, const int8_t* in, const ppgkd_dims* w_dims,
                            const int8_t* w, const ppgkd_dims* bias_dims, const int32_t* bias,
                            const ppgkd_dims* out_dims, int8_t* out);

/* ------------------------------------------------------------------ add (add.c) */

typedef struct {
  int32_t relu; /* 0 or 1 */
} ppgkd_add_params;

/* y = a + b elementwise; a_dims, b_dims, out_dims equal. */
ppgkd_status ppgkd_add_f32(const ppgkd_context* ctx, const ppgkd_add_params* p,
                           const ppgkd_dims* a_dims, const float* a, const ppgkd_dims* b_dims,
                           const float* b, const ppgkd_dims* out_dims, float* out);

/* int8 add as TFLite's reference: both inputs are brought to a common scale with headroom,
 *   a' = requantize((a - a_zp) << left_shift, q_a), b' likewise,
 *   y  = clamp(requantize(a' + b', q_out) + out_zp, act_min, act_max).
 * The exporter picks twice the larger input scale as the common scale:
 *   q_a = a_scale / common, q_b = b_scale / common, q_out = common / (2^left_shift * out_scale).
 * left_shift: 0..PPGKD_ADD_MAX_LEFT_SHIFT (255 << 20 < 2^28 keeps the sum in range). */
typedef struct {
  int32_t a_zp;       /* -128..127 */
  int32_t b_zp;       /* -128..127 */
  int32_t left_shift; /* 0..PPGKD_ADD_MAX_LEFT_SHIFT */
  ppgkd_quant q_a;
  ppgkd_quant q_b;
  ppgkd_quant q_out;
} ppgkd_add_s8_quant;

/* Scratch bytes ppgkd_add_s8 wants in ctx for tensors of n elements (the fast builds' two
 * 256-entry tables of rescaled inputs, 2 kB, from 64 elements on; else 0). */
size_t ppgkd_add_s8_scratch_bytes(int64_t n);

ppgkd_status ppgkd_add_s8(const ppgkd_context* ctx, const ppgkd_add_params* p,
                          const ppgkd_s8_act* act, const ppgkd_add_s8_quant* q,
                          const ppgkd_dims* a_dims, const int8_t* a, const ppgkd_dims* b_dims,
                          const int8_t* b, const ppgkd_dims* out_dims, int8_t* out);

/* ------------------------------------------------------------------ relu (relu.c) */

/* y = max(x, 0); in_dims == out_dims; in == out (in place) is allowed. */
ppgkd_status ppgkd_relu_f32(const ppgkd_context* ctx, const ppgkd_dims* in_dims, const float* in,
                            const ppgkd_dims* out_dims, float* out);

/* int8 ReLU with identical input and output quantisation: y = max(x, zero_point). */
ppgkd_status ppgkd_relu_s8(const ppgkd_context* ctx, int32_t zero_point, const ppgkd_dims* in_dims,
                           const int8_t* in, const ppgkd_dims* out_dims, int8_t* out);

/* ------------------------------------------------------------------ avg_pool1d (avg_pool1d.c) */

typedef struct {
  int32_t kernel; /* 1..L_in (global average pooling: kernel = L_in) */
  int32_t stride; /* >= 1 */
} ppgkd_pool_params;

/* y[c, t] = mean_{k < kernel} x[c, t * stride + k] (no padding).
 * in_dims (1, C, L_in), out_dims (1, C, (L_in - kernel) / stride + 1). */
ppgkd_status ppgkd_avg_pool1d_f32(const ppgkd_context* ctx, const ppgkd_pool_params* p,
                                  const ppgkd_dims* in_dims, const float* in,
                                  const ppgkd_dims* out_dims, float* out);

/* int8: acc = sum_k (x - in_zp) (|acc| <= kernel * 255), y = clamp(requantize(acc, q) +
 * out_zp, act_min, act_max) with q = in_scale / (out_scale * kernel). */
ppgkd_status ppgkd_avg_pool1d_s8(const ppgkd_context* ctx, const ppgkd_pool_params* p,
                                 const ppgkd_s8_act* act, const ppgkd_quant* q,
                                 const ppgkd_dims* in_dims, const int8_t* in,
                                 const ppgkd_dims* out_dims, int8_t* out);

/* ------------------------------------------------------------------ decode (decode.c) */

/* The posterior smoothing of the per-window decode (the host's kPosteriorSmoothBpm,
 * src/data/dsp/class_map.h), in bins, and the largest smoothing the decoder accepts. */
#define PPGKD_DECODE_SMOOTH_SIGMA 3.0f
#define PPGKD_DECODE_MAX_SMOOTH_SIGMA 5.0f

/* Classes: class c covers [bpm_lo + c * bpm_step, bpm_lo + (c + 1) * bpm_step). */
typedef struct {
  uint32_t num_classes; /* >= 1 */
  uint32_t radius;      /* < num_classes; 10 by default */
  float bpm_lo;         /* 30.0 by default */
  float bpm_step;       /* 1.0 by default */
  float smooth_sigma;   /* 0 (none) .. PPGKD_DECODE_MAX_SMOOTH_SIGMA, bins; the runtime's
                           ppgkd_run uses PPGKD_DECODE_SMOOTH_SIGMA */
} ppgkd_decode_params;

/* softmax over logits[num_classes], smoothed: s(c) = sum over |d| <= r of w(d) p(c + d), with
 * w(d) = exp(-d^2 / (2 sigma^2)) scaled to sum to 1 over |d| <= r, r = ceil(3 sigma), and the
 * terms beyond the class range left out (no smoothing when smooth_sigma is 0: s = p).
 * *bpm = the s-weighted mean of bin centres within +-radius bins of the argmax of s (first
 * maximum on ties), normalised by the mass of s in that window; *confidence = that mass (0..1).
 * The decoder keeps a ring of the last 32 exponentials, stored twice (256 bytes of stack), not
 * the whole posterior. The exponential is the runtime's own (no libm expf), so the same logits
 * decode to the same bits on the host and on a Cortex-M4. PPGKD_ERR_DECODE for a smooth_sigma
 * outside [0, PPGKD_DECODE_MAX_SMOOTH_SIGMA]. */
ppgkd_status ppgkd_decode_f32(const ppgkd_decode_params* p, const float* logits, float* bpm,
                              float* confidence);

/* The posterior itself: prob[i] = softmax(logits)[i], i < num_classes, with the runtime's
 * exponential (the same bits on the host and a Cortex-M4), for a tracker (ppgkd_tracker.h).
 * PPGKD_ERR_INPUT for non-finite logits. */
ppgkd_status ppgkd_softmax_f32(const float* logits, uint32_t num_classes, float* prob);

/* As ppgkd_decode_f32 on the dequantised logits scale * (q - zero_point). */
ppgkd_status ppgkd_decode_s8(const ppgkd_decode_params* p, float scale, int32_t zero_point,
                             const int8_t* logits, float* bpm, float* confidence);

#ifdef __cplusplus
}
#endif

#endif /* PPGKD_EDGE_OPS_H */
