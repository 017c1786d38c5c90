/* simd.h — internal to edge/src/ops: which fast kernel paths this build compiles, and the small
 * arithmetic they share. Chosen at compile time only (no runtime dispatch, no flags sniffed):
 *
 *   PPGKD_FAST_DSP   int8 conv1d/dense on the Arm DSP extension (SXTB16 unpacks two int8 lanes
 *                    of a word to two int16 lanes, SMLAD adds both 16 x 16 products of two such
 *                    words to an int32 accumulator: two MACs per instruction; SMMLA adds a
 *                    product's high word to a value, the requantisation's first step). On when the
 *                    compiler targets it (__ARM_FEATURE_DSP: -mcpu=cortex-m4, -m7, -m33, ...),
 *                    or on any host with -DPPGKD_EMULATE_DSP, which compiles the very same kernel
 *                    code over the portable C emulation below (how the host tests check it).
 *   PPGKD_FAST_AVX2  x86-64 AVX2 + FMA kernels (int8 through _mm256_madd_epi16, f32 through
 *                    _mm256_fmadd_ps), when the compiler targets both (__AVX2__ and __FMA__:
 *                    -mavx2 -mfma, or -DPPGKD_EDGE_AVX2=ON in edge/CMakeLists.txt). The default
 *                    build does not: a binary built without them runs on any x86-64.
 *   -DPPGKD_PORTABLE_KERNELS turns both off: the plain C kernels, which are the specification.
 *
 * The int8 fast paths are bit-identical to the portable kernels (integer sums are exact in any
 * order, requantisation is the same function of the same int32). The f32 AVX2 path is not: FMA
 * rounds once per multiply-add and the sums are reassociated; see conv1d_f32_avx2.c. */
#ifndef PPGKD_EDGE_OPS_SIMD_H
#define PPGKD_EDGE_OPS_SIMD_H

#include <stdint.h>
#include <string.h>

#include "ppgkd_edge_ops.h"

#if !defined(PPGKD_PORTABLE_KERNELS) && (defined(__ARM_FEATURE_DSP) || defined(PPGKD_EMULATE_DSP))
#define PPGKD_FAST_DSP 1
#endif
#if !defined(PPGKD_PORTABLE_KERNELS) && !defined(PPGKD_FAST_DSP) && defined(__AVX2__) && \
    defined(__FMA__)
#define PPGKD_FAST_AVX2 1
#endif

/* ------------------------------------------------------------------ requantisation, per channel */

/* ppgkd_requantize(acc, multiplier, shift), with the per-channel work done once (rq_prepare)
 * rather than per output. For shift <= 0 (an effective scale below multiplier / 2^31, which is
 * every layer a trained model has) the total right shift ts = 31 - shift is 31..62 and
 *     floor((acc * mult + 2^(ts - 1)) / 2^ts)
 * comes from the two words of the exact 64-bit sum s = acc * mult + 2^(ts - 1)
 * (|acc * mult| < 2^62, so |s| < 2^62 + 2^61 fits): with hi = floor(s / 2^32),
 *     ts >= 32:  floor(hi / 2^(ts - 32)),
 *     ts == 31:  2 * hi + (bit 31 of s).
 * The result is within the int32 range, so the saturation of ppgkd_requantize never applies:
 * for ts >= 32 |result| < 1.5 * 2^30; for ts == 31 |acc * mult| <= 2^31 * (2^31 - 1) gives
 * result in -2^31 + 1 .. 2^31 - 1. Other channels (shift > 0, or an invalid multiplier or
 * shift) call ppgkd_requantize itself. */
typedef struct {
  int64_t half;   /* 2^(ts - 1) */
  int32_t mult;   /* multiplier */
  int32_t rshift; /* ts - 32, 0..30 (form 1) */
  int32_t form;   /* 1: ts >= 32; 2: ts == 31; 0: ppgkd_requantize */
  int32_t shift;  /* the channel's shift, for ppgkd_requantize */
} ppgkd_rq;

static inline ppgkd_rq ppgkd_rq_prepare(int32_t multiplier, int32_t shift) {
  ppgkd_rq r;
  const int ok = multiplier >= 0 && shift >= PPGKD_SHIFT_MIN && shift <= 0;
  r.mult = multiplier, r.shift = shift;
  r.form = !ok ? 0 : shift <= -1 ? 1 : 2;
  r.rshift = r.form == 1 ? 31 - shift - 32 : 0;
  r.half = ok ? (int64_t)1 << (30 - shift) : 0;
  return r;
}

/* ppgkd_rq_prepare for channel c of a per-channel (or per-tensor) quantisation. */
static inline ppgkd_rq ppgkd_rq_prepare_channel(const ppgkd_per_channel_quant* q, int32_t c) {
  const ppgkd_quant r = ppgkd_channel_quant(q, c);
  return ppgkd_rq_prepare(r.multiplier, r.shift);
}

/* A uint32 holding a two's complement bit pattern as int32, without the implementation-defined
 * conversion (compilers turn it into nothing). */
static inline int32_t ppgkd_s32_bits(uint32_t u) {
  return u <= (uint32_t)INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

/* floor(v / 2^s), 0 <= s <= 31, without the implementation-defined right shift of a negative
 * value (C99 6.5.7p5); compilers emit one arithmetic shift. */
static inline int32_t ppgkd_floor_shr(int32_t v, int32_t s) {
  return v >= 0 ? v >> s : ~(~v >> s);
}

/* ppgkd_requantize(acc, r->mult, r->shift), bit for bit. */
static inline int32_t ppgkd_rq_value(int32_t acc, const ppgkd_rq* r) {
  if (r->form != 0) {
    const uint64_t s = (uint64_t)((int64_t)acc * r->mult + r->half);
    const int32_t hi = ppgkd_s32_bits((uint32_t)(s >> 32));
    if (r->form == 1) return ppgkd_floor_shr(hi, r->rshift);
    /* 2 * hi + bit 31, in unsigned arithmetic: the result is in range (see above) */
    return ppgkd_s32_bits(((uint32_t)hi << 1) + (uint32_t)((s >> 31) & 1u));
  }
  return ppgkd_requantize(acc, r->mult, r->shift);
}

/* clamp(ppgkd_requantize(acc) + out_zp, act_min, act_max) as an int8. */
static inline int8_t ppgkd_rq_out(int32_t acc, const ppgkd_rq* r, const ppgkd_s8_act* act) {
  int32_t v;
  if (r->form == 1) {
    v = ppgkd_rq_value(acc, r) + act->out_zp; /* |value| < 1.5 * 2^30: no overflow */
  } else {
    const int64_t s = (int64_t)ppgkd_rq_value(acc, r) + act->out_zp;
    v = s < -256 ? -256 : s > 256 ? 256 : (int32_t)s; /* the clamp below decides either way */
  }
  if (v < act->act_min) v = act->act_min;
  if (v > act->act_max) v = act->act_max;
  return (int8_t)v;
}

/* ppgkd_rq_out for a channel of the high-word form only (r->form == 1: shift <= -1, which is
 * every layer a trained model has): the high word of acc * mult + half shifted right by rshift,
 * plus the zero point (|value| < 1.5 * 2^30: no overflow), clamped. No branch on the form. */
static inline int8_t ppgkd_rq_out_hi(int32_t acc, const ppgkd_rq* r, const ppgkd_s8_act* a) {
  const uint64_t s = (uint64_t)((int64_t)acc * r->mult + r->half);
  int32_t v = ppgkd_floor_shr(ppgkd_s32_bits((uint32_t)(s >> 32)), r->rshift) + a->out_zp;
  v = v < a->act_min ? a->act_min : v;
  return (int8_t)(v > a->act_max ? a->act_max : v);
}

/* Four bytes from any address as one little-endian word (an unaligned LDR on the M4). */
static inline uint32_t ppgkd_read_s8x4(const int8_t* p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* ------------------------------------------------------------------ DSP extension */

#ifdef PPGKD_FAST_DSP

#if defined(__ARM_FEATURE_DSP) && !defined(PPGKD_EMULATE_DSP)
#include <arm_acle.h>

/* bytes 0 and 2 sign-extended to the low and high halfword */
static inline uint32_t ppgkd_sxtb16(uint32_t v) {
  return (uint32_t)__sxtb16((int32_t)v);
}
/* bytes 1 and 3 sign-extended to the low and high halfword (SXTB16 with ROR #8) */
static inline uint32_t ppgkd_sxtb16_ror8(uint32_t v) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
/* acc + lo(a) * lo(b) + hi(a) * hi(b), 16-bit signed lanes, wrapping int32 */
static inline int32_t ppgkd_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad((int32_t)a, (int32_t)b, acc);
}
/* lane-wise a - b of 16-bit lanes, wrapping */
static inline uint32_t ppgkd_ssub16(uint32_t a, uint32_t b) {
  return (uint32_t)__ssub16((int32_t)a, (int32_t)b);
}
/* v clamped to -128..127 (SSAT #8) */
static inline int32_t ppgkd_ssat8(int32_t v) {
  return __ssat(v, 8);
}
/* the high word of a * b plus acc, wrapping: ((acc << 32) + a * b) >> 32 (SMMLA) */
static inline int32_t ppgkd_smmla(int32_t a, int32_t b, int32_t acc) {
  int32_t r;
  __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}
/* the low halfword of a, the high halfword of b (PKHBT a, b, LSL #16 with b's low halfword) */
static inline uint32_t ppgkd_pack_lo(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
/* a's high halfword in the low, b's high halfword in the high (PKHTB b, a, ASR #16) */
static inline uint32_t ppgkd_pack_hi(uint32_t a, uint32_t b) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
  return r;
}
/* the high word of a * b + 2^31 (SMMLAR with a zero accumulator): a * b / 2^32 rounded */
static inline int32_t ppgkd_smmulr(int32_t a, int32_t b) {
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

#else /* the portable emulation: the same results, lane by lane */

static inline int32_t ppgkd_lane_s8(uint32_t v, int byte) {
  const int32_t b = (int32_t)((v >> (8 * byte)) & 0xFFu);
  return b >= 128 ? b - 256 : b;
}
static inline uint32_t ppgkd_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | (((uint32_t)hi & 0xFFFFu) << 16);
}
static inline int32_t ppgkd_lane_s16(uint32_t v, int half) {
  const int32_t h = (int32_t)((v >> (16 * half)) & 0xFFFFu);
  return h >= 32768 ? h - 65536 : h;
}
static inline uint32_t ppgkd_sxtb16(uint32_t v) {
  return ppgkd_pack16(ppgkd_lane_s8(v, 0), ppgkd_lane_s8(v, 2));
}
static inline uint32_t ppgkd_sxtb16_ror8(uint32_t v) {
  return ppgkd_pack16(ppgkd_lane_s8(v, 1), ppgkd_lane_s8(v, 3));
}
static inline int32_t ppgkd_smlad(uint32_t a, uint32_t b, int32_t acc) {
  /* SMLAD wraps modulo 2^32 (and sets the Q flag, which nothing reads) */
  const uint32_t s = (uint32_t)acc + (uint32_t)(ppgkd_lane_s16(a, 0) * ppgkd_lane_s16(b, 0)) +
                     (uint32_t)(ppgkd_lane_s16(a, 1) * ppgkd_lane_s16(b, 1));
  return ppgkd_s32_bits(s);
}
static inline uint32_t ppgkd_ssub16(uint32_t a, uint32_t b) {
  return ppgkd_pack16(ppgkd_lane_s16(a, 0) - ppgkd_lane_s16(b, 0),
                      ppgkd_lane_s16(a, 1) - ppgkd_lane_s16(b, 1));
}
static inline int32_t ppgkd_ssat8(int32_t v) {
  return v < -128 ? -128 : v > 127 ? 127 : v;
}
static inline int32_t ppgkd_smmla(int32_t a, int32_t b, int32_t acc) {
  const uint32_t high = (uint32_t)((uint64_t)((int64_t)a * b) >> 32);
  return ppgkd_s32_bits(high + (uint32_t)acc);
}
static inline int32_t ppgkd_smmulr(int32_t a, int32_t b) {
  return ppgkd_s32_bits((uint32_t)(((uint64_t)((int64_t)a * b) + UINT64_C(0x80000000)) >> 32));
}
static inline uint32_t ppgkd_pack_lo(uint32_t a, uint32_t b) {
  return (a & 0xFFFFu) | (b << 16);
}
static inline uint32_t ppgkd_pack_hi(uint32_t a, uint32_t b) {
  return (a >> 16) | (b & 0xFFFF0000u);
}

#endif /* __ARM_FEATURE_DSP */

#endif /* PPGKD_FAST_DSP */

/* ------------------------------------------------------------------ AVX2 */

#ifdef PPGKD_FAST_AVX2
#include <immintrin.h>

/* Eight sums of one channel to int8 at y[0..m), as ppgkd_rq_out does each (the high-word form eight
 * lanes at a time: the two words of each exact 64-bit sum from _mm256_mul_epi32 on the even and the
 * odd lanes, as rq_out4 in conv1d_s8_fast.c). */
static inline void ppgkd_avx2_store_row8(__m256i acc, const ppgkd_rq* rq, const ppgkd_s8_act* a,
                                         int32_t m, int8_t* y) {
  if (rq->form == 1) {
    const __m256i mult = _mm256_set1_epi32(rq->mult), half = _mm256_set1_epi64x(rq->half);
    const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(acc, mult), half);
    const __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), mult), half);
    __m256i v = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    __m128i b;
    v = _mm256_sra_epi32(v, _mm_cvtsi32_si128(rq->rshift));
    v = _mm256_add_epi32(v, _mm256_set1_epi32(a->out_zp));
    v = _mm256_max_epi32(v, _mm256_set1_epi32(a->act_min));
    v = _mm256_min_epi32(v, _mm256_set1_epi32(a->act_max));
    /* in -128..127 already: the packs change nothing; bytes 0-3 of each half are lanes 0-3, 4-7 */
    v = _mm256_packs_epi16(_mm256_packs_epi32(v, v), v);
    b = _mm_unpacklo_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    if (m == 8) {
      _mm_storel_epi64((__m128i*)(void*)y, b);
    } else {
      int8_t t[16];
      _mm_storeu_si128((__m128i*)(void*)t, b);
      memcpy(y, t, (size_t)m);
    }
  } else {
    int32_t r[8], j;
    _mm256_storeu_si256((__m256i*)(void*)r, acc);
    for (j = 0; j < m; ++j) y[j] = ppgkd_rq_out(r[j], rq, a);
  }
}

#endif /* PPGKD_FAST_AVX2 */

/* ------------------------------------------------------------------ the fast kernels' entry points
 */

/* int8 conv1d, every output, when the fast path takes the shape (returns 1; 0: the caller's
 * portable kernel does it all). Arguments as ppgkd_conv1d_s8's, already checked there; scratch
 * (scratch_size bytes, the context's buffer): the DSP kernels' working memory, at least
 * ppgkd_conv1d_s8_scratch_bytes for the shape or the DSP kernel declines (the AVX2 kernel keeps
 * its scratch on the host's stack). conv1d_s8_fast.c, in fast builds only. */
int ppgkd_conv1d_s8_fast(const ppgkd_conv1d_params* p, const ppgkd_s8_act* act,
                         const ppgkd_per_channel_quant* q, int32_t c_in, int32_t l_in,
                         const int8_t* in, int32_t c_out, int32_t kk, const int8_t* w,
                         const int32_t* bias, int32_t l_out, int8_t* out, void* scratch,
                         size_t scratch_size);

/* The AVX2 int8 dense keeps x - zp as int16 on the stack: inputs of up to this many elements. */
#define PPGKD_AVX2_DENSE_MAX_N 65536

/* int8 dense, all M outputs (arguments checked by ppgkd_dense_s8). dense_s8_fast.c. */
void ppgkd_dense_s8_fast(const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q, int32_t n_in,
                         const int8_t* in, int32_t m_out, const int8_t* w, const int32_t* bias,
                         int8_t* out);

/* f32 conv1d (returns 1 when it took the shape, else 0) and dense on AVX2 + FMA, within the
 * tolerance conv1d_f32_fast.c derives. Arguments as ppgkd_conv1d_f32 / ppgkd_dense_f32's. */
int ppgkd_conv1d_f32_fast(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in, const float* in,
                          int32_t c_out, int32_t kk, const float* w, const float* bias,
                          int32_t l_out, float* out);
void ppgkd_dense_f32_fast(int32_t relu, int32_t n_in, const float* in, int32_t m_out,
                          const float* w, const float* bias, float* out);

#endif /* PPGKD_EDGE_OPS_SIMD_H */
