/* requantize.c — fixed-point requantisation shared by every int8 kernel, and the int32
 * accumulator bound the loader and the exporter check per layer, and the quantisation of the
 * model input (ppgkd_quantize_input_s8). Not a kernel itself. */
#include <math.h>
#include <stdint.h>

#include "ppgkd_edge_ops.h"
#include "simd.h"

#ifdef PPGKD_FAST_AVX2
#include <immintrin.h>
#endif

/* floor(n / 2^s) for 1 <= s <= 62 without relying on the implementation-defined right shift of
 * a negative value (C99 6.5.7p5). */
static int64_t floor_shift(int64_t n, int s) {
  if (n >= 0) return n >> s;
  return -(int64_t)((((uint64_t)(-n)) + ((UINT64_C(1) << s) - 1)) >> s);
}

int32_t ppgkd_requantize(int32_t val, int32_t multiplier, int32_t shift) {
  int total_shift;
  int64_t prod, rounded;
  if (multiplier < 0 || shift < PPGKD_SHIFT_MIN || shift > PPGKD_SHIFT_MAX) return 0;
  total_shift = 31 - (int)shift;             /* 1..62 */
  prod = (int64_t)val * (int64_t)multiplier; /* |prod| < 2^62 */
  /* Adding half before the floor rounds halves towards +infinity; |prod| + 2^61 < 2^63. */
  rounded = floor_shift(prod + ((int64_t)1 << (total_shift - 1)), total_shift);
  if (rounded > INT32_MAX) return INT32_MAX;
  if (rounded < INT32_MIN) return INT32_MIN;
  return (int32_t)rounded;
}

int ppgkd_s8_accumulator_fits(uint32_t n_terms, uint32_t max_abs_bias) {
  /* |acc| <= max_abs_bias + n_terms * 127 * 255 (see ppgkd_edge_ops.h); computed in 64 bits,
   * which cannot overflow: 2^32 * 32385 + 2^32 < 2^48. */
  uint64_t bound = (uint64_t)max_abs_bias + (uint64_t)n_terms * 127u * 255u;
  return bound <= (uint64_t)INT32_MAX;
}

/* The specification (ppgkd_edge_ops.h) clamps v = x / scale + zp to -128..127 and then rounds:
 *   r = v >= 0 ? v + 0.5 : v - 0.5 (float), out = (int32_t)r (truncation).
 * This computes r from the unclamped v and takes the truncation only when -128 < r < 128, i.e.
 * when v is within (-127.5, 127.5): there the clamp changes nothing, so r and out are the
 * specification's. Otherwise (|r| >= 128, an infinity, or NaN, for which both comparisons are
 * false) the rare branch checks x[i] and gives -128 for r < 0, else 127, which is what the
 * clamp gives: r >= 128 means v >= 127.5 (v + 0.5 is exact below 128: both on the grid of
 * 2^-17), so the clamped 127 rounds to 127; r <= -128 means v <= -127.5, and the clamped v in
 * [-128, -127.5] rounds to -128 - 0.5 .. -128, truncated -128. An x[i] that is finite with an
 * infinite v (x / scale overflowing) is clamped the same way. Per element the division, one
 * add, the rounding add, an absolute value and one compare, the conversion and the store;
 * fabsf is one instruction (VABS) wherever the compiler has it as a builtin (GCC, clang). */
#ifdef PPGKD_FAST_AVX2
/* One element of ppgkd_quantize_input_s8 (the loop below). */
static ppgkd_status quantize_one(float x, float scale, float zp, int8_t* out) {
  const float v = x / scale + zp;
  const float r = v >= 0.0f ? v + 0.5f : v - 0.5f;
  if (fabsf(r) < 128.0f) {
    *out = (int8_t)(int32_t)r;
  } else {
    if (!(x - x == 0.0f)) return PPGKD_ERR_INPUT; /* NaN or infinity */
    *out = (int8_t)(r < 0.0f ? -128 : 127);
  }
  return PPGKD_OK;
}

/* The AVX2 build takes eight elements at a time through the same float operations lane by lane
 * (_mm256_div_ps, _mm256_add_ps and _mm256_sub_ps round as the scalar ones: IEEE single, to
 * nearest even; the >= 0 choice and |r| < 128 are the same comparisons, NaN failing both; the
 * truncation is _mm256_cvttps_epi32's, exact for |r| < 128), so the bytes are the same; a block
 * with any element outside |r| < 128 (or NaN) goes through quantize_one element by element.
 * Returns the elements done (a multiple of 8), or n + 1 on a NaN or infinity. */
static uint32_t quantize_input_avx2(const float* x, uint32_t n, float scale, float zp,
                                    int8_t* out) {
  const __m256 vs = _mm256_set1_ps(scale), vz = _mm256_set1_ps(zp);
  const __m256 half = _mm256_set1_ps(0.5f), lim = _mm256_set1_ps(128.0f);
  const __m256 mag = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  uint32_t i, j;
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_add_ps(_mm256_div_ps(_mm256_loadu_ps(x + i), vs), vz);
    const __m256 ge = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ);
    const __m256 r = _mm256_blendv_ps(_mm256_sub_ps(v, half), _mm256_add_ps(v, half), ge);
    if (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(r, mag), lim, _CMP_LT_OQ)) == 0xFF) {
      const __m256i k = _mm256_cvttps_epi32(r);
      const __m128i k16 =
          _mm_packs_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
      _mm_storel_epi64((__m128i*)(void*)(out + i), _mm_packs_epi16(k16, k16));
    } else {
      for (j = i; j < i + 8; ++j) {
        if (quantize_one(x[j], scale, zp, out + j) != PPGKD_OK) return n + 1;
      }
    }
  }
  return i;
}
#endif

ppgkd_status ppgkd_quantize_input_s8(const float* x, uint32_t n, float scale, int32_t zero_point,
                                     int8_t* out) {
  const float zp = (float)zero_point;
  uint32_t i = 0;
  if (!x || !out) return PPGKD_ERR_ARG;
#ifdef PPGKD_FAST_AVX2
  i = quantize_input_avx2(x, n, scale, zp, out);
  if (i > n) return PPGKD_ERR_INPUT;
#endif
  for (; i < n; ++i) {
    const float v = x[i] / scale + zp;
    const float r = v >= 0.0f ? v + 0.5f : v - 0.5f;
    if (fabsf(r) < 128.0f) {
      out[i] = (int8_t)(int32_t)r;
    } else {
      if (!(x[i] - x[i] == 0.0f)) return PPGKD_ERR_INPUT; /* NaN or infinity */
      out[i] = (int8_t)(r < 0.0f ? -128 : 127);
    }
  }
  return PPGKD_OK;
}
