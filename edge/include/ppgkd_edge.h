/* ppgkd_edge.h — the public API of the ppgkd C99 microcontroller runtime.
 *
 * Lifecycle: validate once, then run without checks (TFLite Micro's error-handling policy, but
 * the loader trusts nothing in the blob: see docs/FORMAT.md).
 *
 *   ppgkd_model m;
 *   size_t need;
 *   ppgkd_arena_required(blob, len, &need);            // optional: size the arena
 *   if (ppgkd_init(&m, blob, len, arena, sizeof arena) != PPGKD_OK) ...;
 *   ppgkd_standardise(window, C, L);                    // preprocess.c
 *   ppgkd_run(&m, window, &bpm, &confidence);
 *
 * The runtime never allocates, includes nothing outside the C standard library and uses libm
 * only for sqrtf (standardisation; the softmax's exp is its own, for the same bits on every
 * target). It reads weights in place from the blob, so blob and arena must be 4-byte aligned,
 * must outlive the model and the blob must not change after ppgkd_init (its CRC is checked
 * once). It is not thread-safe per model.
 * Shapes: C input channels, L samples (200 at 25 Hz), K classes (180).
 */
#ifndef PPGKD_EDGE_H
#define PPGKD_EDGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  PPGKD_OK = 0,
  PPGKD_ERR_ARG = 1,            /* NULL pointer or bad argument to an API call */
  PPGKD_ERR_ALIGN = 2,          /* blob or arena not 4-byte aligned */
  PPGKD_ERR_TRUNCATED = 3,      /* fewer bytes than the header or its total_len says */
  PPGKD_ERR_LENGTH = 4,         /* more bytes than total_len, or total_len inconsistent */
  PPGKD_ERR_MAGIC = 5,          /* not a ppgkd blob */
  PPGKD_ERR_VERSION = 6,        /* unsupported format version */
  PPGKD_ERR_FLAGS = 7,          /* unknown flag bits */
  PPGKD_ERR_CRC = 8,            /* CRC-32 mismatch */
  PPGKD_ERR_COUNT = 9,          /* op or tensor count out of range */
  PPGKD_ERR_SIZE_OVERFLOW = 10, /* a size product overflows 32 bits */
  PPGKD_ERR_TENSOR = 11,        /* bad storage, dtype, rank, dims, size or reserved field */
  PPGKD_ERR_OFFSET = 12,        /* constant outside the data section or misaligned */
  PPGKD_ERR_OP = 13,            /* bad op type, arity, tensor id, dtype or reserved field */
  PPGKD_ERR_SHAPE = 14,         /* tensor shapes disagree with the op's params */
  PPGKD_ERR_QUANT = 15,         /* bad scale, zero point, multiplier, shift or weight -128 */
  PPGKD_ERR_ACC_OVERFLOW = 16,  /* an int8 layer could overflow its int32 accumulator */
  PPGKD_ERR_GRAPH = 17,         /* a tensor used before written, written twice, bad in/out */
  PPGKD_ERR_ARENA_RANGE = 18,   /* an activation's offset + size exceeds the planned arena */
  PPGKD_ERR_ARENA_OVERLAP = 19, /* activations alive at the same time share bytes */
  PPGKD_ERR_ARENA_SMALL = 20,   /* the arena given is smaller than the plan needs */
  PPGKD_ERR_INPUT = 21,         /* a non-finite input sample */
  PPGKD_ERR_UNSUPPORTED = 22,   /* big-endian host (the blob stores little-endian weights) */
  PPGKD_ERR_DECODE = 23         /* decoding parameters out of range */
} ppgkd_status;

/* A short constant name for a status, e.g. "PPGKD_ERR_CRC". Never NULL. */
const char* ppgkd_status_str(ppgkd_status s);

/* A validated model. Fields are filled by ppgkd_init and read by ppgkd_run; treat as opaque. */
typedef struct {
  const uint8_t* blob;
  const uint8_t* ops;     /* op table inside blob */
  const uint8_t* tensors; /* tensor table inside blob */
  const uint8_t* data;    /* data section inside blob */
  uint8_t* arena;
  uint32_t num_ops;
  uint32_t num_tensors;
  uint32_t flags;
  uint32_t input;
  uint32_t output;
  uint32_t in_channels;
  uint32_t in_length;
  uint32_t num_classes;
  uint32_t radius;
  float bpm_lo;
  float bpm_step;
  uint32_t arena_size;     /* the activations' plan (blob header) */
  uint32_t scratch_offset; /* kernel scratch in the arena: from here ... */
  uint32_t scratch_size;   /* ... this many bytes (0: none) */
  uint32_t ready;          /* 1 after a successful ppgkd_init */
} ppgkd_model;

/* Validates the whole blob (magic, version, flags, CRC, counts, every record, offset and size
 * product, op arity and shapes, quantisation parameters, accumulator bounds, graph order, the
 * arena plan) and binds it to the arena. On any error *model is left not ready.
 * blob: len bytes, 4-byte aligned; arena: arena_len bytes, 4-byte aligned, at least what
 * ppgkd_arena_required says (activations and kernel scratch). */
ppgkd_status ppgkd_init(ppgkd_model* model, const uint8_t* blob, size_t len, uint8_t* arena,
                        size_t arena_len);

/* Validates the blob as ppgkd_init does and sets *bytes to the arena it needs: the activations'
 * plan (rounded up to 8 bytes) plus the largest kernel scratch of any op
 * (ppgkd_conv1d_s8_scratch_bytes, ppgkd_add_s8_scratch_bytes; int8 models only), the same on
 * every build. ppgkd_init refuses a smaller arena with PPGKD_ERR_ARENA_SMALL. */
ppgkd_status ppgkd_arena_required(const uint8_t* blob, size_t len, size_t* bytes);

/* Runs the model on one preprocessed window and decodes it (ppgkd_decode_f32 / _s8 with the
 * posterior smoothed by PPGKD_DECODE_SMOOTH_SIGMA, ppgkd_edge_ops.h).
 * window: (C, L) float, channel-major, C = model in_channels, L = in_length, finite values.
 * bpm: decoded heart rate; confidence: smoothed posterior mass within the decode radius (0..1). */
ppgkd_status ppgkd_run(ppgkd_model* model, const float* window, float* bpm, float* confidence);

/* As ppgkd_run but writes the num_logits = num_classes logits (dequantised for int8 models). */
ppgkd_status ppgkd_run_logits(ppgkd_model* model, const float* window, float* logits,
                              size_t num_logits);

/* ------------------------------------------------------------------ preprocessing */

/* Per-window standardisation in place: each of the C channels of x (C, L) to zero mean and unit
 * (population) variance. A flat channel (std < 1e-6) becomes all zeros. */
ppgkd_status ppgkd_standardise(float* x, uint32_t channels, uint32_t length);

/* One second-order section, a0 normalised to 1:
 * y = b0 x + b1 x[-1] + b2 x[-2] - a1 y[-1] - a2 y[-2]. */
typedef struct {
  float b0, b1, b2, a1, a2;
} ppgkd_biquad;

/* A causal cascade of sections in transposed direct form II, for streaming band-pass filtering.
 * The coefficients come from the exporter (src/data/dsp/filter.h designs them); state holds
 * 2 floats per section and is owned by the caller. */
typedef struct {
  const ppgkd_biquad* sections;
  float* state; /* [2 * num_sections] */
  uint32_t num_sections;
} ppgkd_sos_filter;

/* Binds sections and state (zeroed). num_sections >= 1. */
ppgkd_status ppgkd_sos_init(ppgkd_sos_filter* f, const ppgkd_biquad* sections,
                            uint32_t num_sections, float* state);
/* Clears the state (as after init). */
void ppgkd_sos_reset(ppgkd_sos_filter* f);
/* Sets the state to the steady state of a constant input x0 (as if x0 had been the input
 * forever), so a signal with an offset starts without a step transient: what the host's causal
 * preprocessing does with the first sample (SosFilter::prime). Sections whose DC gain is
 * undefined (1 + a1 + a2 == 0) keep a zero state. */
void ppgkd_sos_prime(ppgkd_sos_filter* f, float x0);
/* Filters one sample. */
float ppgkd_sos_step(ppgkd_sos_filter* f, float x);

#ifdef __cplusplus
}
#endif

#endif /* PPGKD_EDGE_H */
