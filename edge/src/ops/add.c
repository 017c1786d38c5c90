/* add.c — elementwise addition of two same-shaped tensors (residual joins), with fused ReLU;
 * f32 reference and int8 kernel (TFLite reference arithmetic). See ppgkd_edge_ops.h. */
#include "ppgkd_edge_ops.h"
#include "simd.h"

#ifdef PPGKD_FAST_AVX2
#include <immintrin.h>
#endif

/* The fast int8 add tabulates both inputs' 256 rescaled values (built incrementally, about as
 * costly as 70 elements without tables) when the tensor has at least 2 * ADD_TABLE_MIN
 * elements. */
#define ADD_TABLE_MIN 32
#define ADD_TABLE_BYTES (2 * 256 * sizeof(int32_t)) /* both tables, in the context's scratch */

size_t ppgkd_add_s8_scratch_bytes(int64_t n) {
  return n >= 2 * ADD_TABLE_MIN ? ADD_TABLE_BYTES : 0;
}

static int same_dims(const ppgkd_dims* a, const ppgkd_dims* b) {
  return a && b && a->n == b->n && a->c == b->c && a->l == b->l;
}

ppgkd_status ppgkd_add_f32(const ppgkd_context* ctx, const ppgkd_add_params* p,
                           const ppgkd_dims* a_dims, const float* a, const ppgkd_dims* b_dims,
                           const float* b, const ppgkd_dims* out_dims, float* out) {
  int64_t i, n;
  (void)ctx;
  if (!p || !a || !b || !out) return PPGKD_ERR_ARG;
  if (!same_dims(a_dims, b_dims) || !same_dims(a_dims, out_dims)) return PPGKD_ERR_SHAPE;
  n = (int64_t)a_dims->n * a_dims->c * a_dims->l;
  for (i = 0; i < n; ++i) {
    float y = a[i] + b[i];
    if (p->relu && y < 0.0f) y = 0.0f;
    out[i] = y;
  }
  return PPGKD_OK;
}

#if defined(PPGKD_FAST_DSP) || defined(PPGKD_FAST_AVX2)
/* t[v + 128] = ppgkd_rq_value((v - zp) * scale, r) for v = -128..127. For the forms with a
 * prepared 64-bit sum (simd.h) the sum (v - zp) * scale * mult + half grows by scale * mult per
 * step, exactly in int64 (every intermediate is one of the sums, |sum| < 2^62 + 2^61), and each
 * value is taken from its words as ppgkd_rq_value takes it; one loop per form. */
static void fill_table(int32_t* t, int32_t zp, int32_t scale, const ppgkd_rq* r) {
  const int64_t step = (int64_t)scale * r->mult;
  int64_t sum = (int64_t)((-128 - zp) * scale) * r->mult + r->half;
  int32_t v;
#ifdef PPGKD_FAST_DSP
  /* One multiply per entry instead of a 64-bit running sum, x = (v - zp) * scale (|x| <= 255 *
   * 2^20 < 2^28): for rshift >= 1, half = 2^(rshift + 31) is 2^(rshift - 1) in the high word
   * (SMMLA adds it exactly: |x * mult / 2^32| < 2^27); for rshift = 0 the value is
   * x * mult / 2^32 rounded half up (SMMULR); for ts = 31 (form 2) it is
   * floor((x * mult + 2^30) / 2^31) = floor((2x * mult + 2^31) / 2^32), SMMULR of 2x. */
  if (r->form != 0) {
    const int32_t mult = r->mult;
    int32_t x = (-128 - zp) * scale;
    if (r->form == 1 && r->rshift >= 1) {
      const int32_t rshift = r->rshift, round = (int32_t)1 << (r->rshift - 1);
      for (v = 0; v < 256; ++v, x += scale) {
        t[v] = ppgkd_floor_shr(ppgkd_smmla(x, mult, round), rshift);
      }
    } else if (r->form == 1) {
      for (v = 0; v < 256; ++v, x += scale) t[v] = ppgkd_smmulr(x, mult);
    } else {
      for (v = 0; v < 256; ++v, x += scale) t[v] = ppgkd_smmulr(2 * x, mult);
    }
    return;
  }
#endif
  if (r->form == 1) {
    const int32_t rshift = r->rshift;
    for (v = 0; v < 256; ++v, sum += step) {
      t[v] = ppgkd_floor_shr(ppgkd_s32_bits((uint32_t)((uint64_t)sum >> 32)), rshift);
    }
  } else if (r->form == 2) {
    for (v = 0; v < 256; ++v, sum += step) {
      const uint64_t u = (uint64_t)sum;
      t[v] = ppgkd_s32_bits(((uint32_t)(u >> 32) << 1) + (uint32_t)((u >> 31) & 1u));
    }
  } else {
    for (v = -128; v < 128; ++v) t[v + 128] = ppgkd_rq_value((v - zp) * scale, r);
  }
}

#if defined(__GNUC__)
#define ADD_NOINLINE __attribute__((noinline))
#else
#define ADD_NOINLINE
#endif

/* The tables' loop for the common case, everything in registers: out[i] = ppgkd_rq_out of
 * ta[a[i]] + tb[b[i]] (ta, tb at their entry for 0, so indexed by the int8 value itself) for an
 * output requantisation of the high-word form with rshift >= 1 (half = 2^(rshift + 31), a
 * multiple of 2^32: the product's high word plus 2^(rshift - 1), no 64-bit add) and
 * act_max = 127 (the upper clamp is a saturation to int8: SSAT on the DSP). */
static ADD_NOINLINE void add_tables_hi(const int8_t* a, const int8_t* b, int32_t n,
                                       const int32_t* ta, const int32_t* tb, const ppgkd_rq* ro,
                                       const ppgkd_s8_act* act, int8_t* out) {
  const int32_t mult = ro->mult, rshift = ro->rshift, round = (int32_t)1 << (ro->rshift - 1);
  const int32_t zp = act->out_zp, lo = act->act_min;
  int32_t i;
#ifdef PPGKD_FAST_DSP
  if (rshift <= 22) {
    /* the zero point folded into the rounding term (adding zp * 2^rshift before the floor shift
     * adds exactly zp after it; |high| <= 2^30 and 2^21 + 128 * 2^22 < 2^30: no overflow), and
     * SMMLA forming high + that term in one instruction */
    const int32_t bias = round + zp * ((int32_t)1 << rshift);
    uint8_t* const ob = (uint8_t*)out; /* the low byte stored: no sign extension first */
    for (i = 0; i < n; ++i) {
      int32_t y =
          ppgkd_ssat8(ppgkd_floor_shr(ppgkd_smmla(ta[a[i]] + tb[b[i]], mult, bias), rshift));
      if (y < lo) y = lo;           /* lo >= -128 */
      ob[i] = (uint8_t)(uint32_t)y; /* the int8 value's bits */
    }
    return;
  }
#endif
  i = 0;
#ifdef PPGKD_FAST_AVX2
  {
    /* eight at a time: both tables gathered by the int8 values, the same int32 sum, the high
     * words of the eight exact products (even and odd lanes through _mm256_mul_epi32), the same
     * rounding term, an arithmetic shift (the floor), zp and the clamps */
    const __m256i vm = _mm256_set1_epi32(mult), vr = _mm256_set1_epi32(round);
    const __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo);
    const __m256i vhi = _mm256_set1_epi32(127);
    const __m128i sh = _mm_cvtsi32_si128(rshift);
    for (; i + 8 <= n; i += 8) {
      const __m256i xa =
          _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(const void*)(a + i)));
      const __m256i xb =
          _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(const void*)(b + i)));
      const __m256i sum = _mm256_add_epi32(_mm256_i32gather_epi32((const int*)ta, xa, 4),
                                           _mm256_i32gather_epi32((const int*)tb, xb, 4));
      const __m256i even = _mm256_mul_epi32(sum, vm);
      const __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(sum, 32), vm);
      __m256i y = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
      __m128i o;
      y = _mm256_add_epi32(_mm256_sra_epi32(_mm256_add_epi32(y, vr), sh), vzp);
      y = _mm256_max_epi32(_mm256_min_epi32(y, vhi), vlo);
      y = _mm256_packs_epi16(_mm256_packs_epi32(y, y), y);
      o = _mm_unpacklo_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
      _mm_storel_epi64((__m128i*)(void*)(out + i), o);
    }
  }
#endif
  for (; i < n; ++i) {
    const int32_t sum = ta[a[i]] + tb[b[i]];
    const int32_t high = ppgkd_s32_bits((uint32_t)((uint64_t)((int64_t)sum * mult) >> 32));
#ifdef PPGKD_FAST_DSP
    const int32_t y = ppgkd_ssat8(ppgkd_floor_shr(high + round, rshift) + zp);
#else
    int32_t y = ppgkd_floor_shr(high + round, rshift) + zp;
    y = y > 127 ? 127 : y;
#endif
    out[i] = (int8_t)(y < lo ? lo : y); /* lo >= -128 */
  }
}
#endif

ppgkd_status ppgkd_add_s8(const ppgkd_context* ctx, const ppgkd_add_params* p,
                          const ppgkd_s8_act* act, const ppgkd_add_s8_quant* q,
                          const ppgkd_dims* a_dims, const int8_t* a, const ppgkd_dims* b_dims,
                          const int8_t* b, const ppgkd_dims* out_dims, int8_t* out) {
  int64_t i, n;
  (void)ctx; /* scratch: the fast builds' tables */
  (void)p;   /* the fused ReLU is act->act_min */
  if (!a || !b || !out || !act || !q) return PPGKD_ERR_ARG;
  if (q->left_shift < 0 || q->left_shift > PPGKD_ADD_MAX_LEFT_SHIFT) return PPGKD_ERR_ARG;
  if (!same_dims(a_dims, b_dims) || !same_dims(a_dims, out_dims)) return PPGKD_ERR_SHAPE;
  n = (int64_t)a_dims->n * a_dims->c * a_dims->l;
#if defined(PPGKD_FAST_DSP) || defined(PPGKD_FAST_AVX2)
  {
    /* The same arithmetic with the three requantisations prepared once (simd.h: ppgkd_rq_value
     * is ppgkd_requantize bit for bit); bit-identical. The sum of the two rescaled inputs fits
     * int32 whenever both come from the fast form (|value| <= 255 * 2^20 * 2^shift, shift <= 0),
     * else it saturates as below. */
    const ppgkd_rq ra = ppgkd_rq_prepare(q->q_a.multiplier, q->q_a.shift);
    const ppgkd_rq rb = ppgkd_rq_prepare(q->q_b.multiplier, q->q_b.shift);
    const ppgkd_rq ro = ppgkd_rq_prepare(q->q_out.multiplier, q->q_out.shift);
    const ppgkd_s8_act ac = *act; /* a copy the int8 stores cannot alias */
    const int32_t a_zp = q->a_zp, b_zp = q->b_zp, scale = (int32_t)1 << q->left_shift;
    if (n >= 2 * ADD_TABLE_MIN && ctx && ctx->buf && (uintptr_t)ctx->buf % 4 == 0 &&
        ctx->size >= ADD_TABLE_BYTES) {
      /* An int8 input has 256 values: its rescaled value ppgkd_rq_value((x - zp) * 2^shift)
       * comes from a table of them, built once (the same function of the same int32, so the
       * same bits), and each element costs two loads, one add and the output requantisation.
       * The tables live in the context's scratch (the arena), not on the stack. */
      int32_t* const ta = (int32_t*)ctx->buf;
      int32_t* const tb = ta + 256;
      fill_table(ta, a_zp, scale, &ra);
      fill_table(tb, b_zp, scale, &rb);
      if (ra.form != 0 && rb.form != 0 && ro.form == 1) {
        /* shift <= 0 for both inputs (a trained model's: the larger scale over twice itself is
         * 1/2, shift 0): each rescaled value is at most |x - zp| * 2^20 < 2^28 in magnitude, so
         * their sum fits int32; the output requantisation is of the high-word form:
         * ppgkd_rq_out_hi with its constants in locals (registers, not reloads) */
        if (ro.rshift >= 1 && ac.act_max == 127 && n <= INT32_MAX) {
          add_tables_hi(a, b, (int32_t)n, ta + 128, tb + 128, &ro, &ac, out);
          return PPGKD_OK;
        }
        {
          const int64_t half = ro.half;
          const int32_t mult = ro.mult, rshift = ro.rshift, zp = ac.out_zp;
          const int32_t lo = ac.act_min, hi = ac.act_max;
          for (i = 0; i < n; ++i) {
            const int32_t sum = ta[a[i] + 128] + tb[b[i] + 128];
            const uint64_t p64 = (uint64_t)((int64_t)sum * mult + half);
            int32_t y = ppgkd_floor_shr(ppgkd_s32_bits((uint32_t)(p64 >> 32)), rshift) + zp;
            y = y < lo ? lo : y;
            out[i] = (int8_t)(y > hi ? hi : y);
          }
        }
        return PPGKD_OK;
      }
      for (i = 0; i < n; ++i) {
        const int64_t sum = (int64_t)ta[a[i] + 128] + tb[b[i] + 128];
        const int32_t s32 = sum > INT32_MAX   ? INT32_MAX
                            : sum < INT32_MIN ? INT32_MIN
                                              : (int32_t)sum;
        out[i] = ppgkd_rq_out(s32, &ro, &ac);
      }
      return PPGKD_OK;
    }
    for (i = 0; i < n; ++i) {
      const int64_t sum = (int64_t)ppgkd_rq_value(((int32_t)a[i] - a_zp) * scale, &ra) +
                          ppgkd_rq_value(((int32_t)b[i] - b_zp) * scale, &rb);
      const int32_t s32 = sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : (int32_t)sum;
      out[i] = ppgkd_rq_out(s32, &ro, &ac);
    }
    return PPGKD_OK;
  }
#endif
  for (i = 0; i < n; ++i) {
    /* |x - zp| <= 255, times 2^20 < 2^28: the shifted values fit in int32. Multiply rather
     * than shift: left-shifting a negative value is undefined in C99. */
    const int32_t sa = ((int32_t)a[i] - q->a_zp) * ((int32_t)1 << q->left_shift);
    const int32_t sb = ((int32_t)b[i] - q->b_zp) * ((int32_t)1 << q->left_shift);
    const int64_t sum = (int64_t)ppgkd_requantize(sa, q->q_a.multiplier, q->q_a.shift) +
                        ppgkd_requantize(sb, q->q_b.multiplier, q->q_b.shift);
    const int32_t sum32 = sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : (int32_t)sum;
    int64_t v = (int64_t)ppgkd_requantize(sum32, q->q_out.multiplier, q->q_out.shift) + act->out_zp;
    if (v < act->act_min) v = act->act_min;
    if (v > act->act_max) v = act->act_max;
    out[i] = (int8_t)v;
  }
  return PPGKD_OK;
}
