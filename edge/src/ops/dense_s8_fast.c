/* dense_s8_fast.c — int8 dense on the Arm DSP extension or x86-64 AVX2 (simd.h says which
 * build compiles which; a portable build compiles nothing here). Arguments as ppgkd_dense_s8
 * (dense.c), already checked there. Outputs are bit-identical to the portable kernel: the int32
 * sums w * (x - zp) are exact in any order (and bounded by ppgkd_s8_accumulator_fits), and
 * requantisation is ppgkd_rq_out (simd.h).
 *
 * DSP: four weight rows at a time. A word of four inputs unpacks (SXTB16, SXTB16 ROR 8) into
 * its even and odd lanes, minus the zero point in each 16-bit lane (SSUB16: x - zp is within
 * -255..255, exact); each row's word of four weights unpacks the same way and two SMLADs add its
 * four products. N % 4 inputs and M % 4 rows are done term by term. */
#include "simd.h"

#ifdef PPGKD_FAST_DSP

/* Inputs of up to 4 * DENSE_SMALL_WORDS features (a multiple of 4) are unpacked once onto the
 * stack (8 bytes per 4 features). */
#define DENSE_SMALL_WORDS 8

#if defined(__GNUC__)
#define DENSE_NOINLINE __attribute__((noinline))
#else
#define DENSE_NOINLINE
#endif
/* The general kernel without GCC's scheduling before register allocation: it hoists the four
 * rows' loads so far that it runs out of registers and spills (the M4 runs m6 14 % faster
 * without it). */
#if defined(__GNUC__) && !defined(__clang__)
#define DENSE_ATTR __attribute__((optimize("no-schedule-insns")))
#else
#define DENSE_ATTR
#endif

/* ppgkd_rq_out_hi for rshift >= 1 (half = 2^(rshift + 31), a multiple of 2^32: the product's
 * high word plus round = 2^(rshift - 1), no 64-bit add) and act_max = 127 (SSAT). */
static inline int8_t rq_hi(int32_t acc, int32_t mult, int32_t round, int32_t rshift, int32_t zp,
                           int32_t lo) {
  const int32_t high = ppgkd_s32_bits((uint32_t)((uint64_t)((int64_t)acc * mult) >> 32));
  const int32_t v = ppgkd_ssat8(ppgkd_floor_shr(high + round, rshift) + zp);
  return (int8_t)(v < lo ? lo : v); /* lo >= -128 */
}

/* A per-tensor requantisation of the form rq_hi takes, for the small-input loops. */
typedef struct {
  int32_t mult, round, rshift, zp, lo;
} small_rq;

/* out[m] for every row of a layer with `words` words of four inputs, unpacked minus the zero
 * point in xp (even lanes xp[2k], odd lanes xp[2k + 1]). */
static DENSE_NOINLINE DENSE_ATTR void dense_small(const uint32_t* xp, int32_t words,
                                                  const int8_t* w, const int32_t* bias,
                                                  int32_t m_out, const small_rq* c, int8_t* out) {
  const int32_t mult = c->mult, round = c->round, rshift = c->rshift, zp = c->zp, lo = c->lo;
  int32_t m, k;
  for (m = 0; m < m_out; ++m, w += 4 * words) {
    int32_t a0 = bias ? bias[m] : 0;
    for (k = 0; k < words; ++k) {
      const uint32_t v = ppgkd_read_s8x4(w + 4 * k);
      a0 = ppgkd_smlad(ppgkd_sxtb16(v), xp[2 * k], a0);
      a0 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), xp[2 * k + 1], a0);
    }
    out[m] = rq_hi(a0, mult, round, rshift, zp, lo);
  }
}

/* dense_small for 1-3 words (the heads of 4, 8 and 12 features), the unpacked input in locals
 * (registers); DENSE_WORD(k) adds word k's four products. */
#define DENSE_WORD(k)                                  \
  do {                                                 \
    const uint32_t v = ppgkd_read_s8x4(w + 4 * (k));   \
    a0 = ppgkd_smlad(ppgkd_sxtb16(v), xe##k, a0);      \
    a0 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), xo##k, a0); \
  } while (0)
#define DENSE_SMALL_N(name, WORDS, BODY)                                            \
  static DENSE_NOINLINE DENSE_ATTR void name(const uint32_t* xp, const int8_t* w,   \
                                             const int32_t* bias, int32_t m_out,    \
                                             const small_rq* c, int8_t* out) {      \
    const int32_t mult = c->mult, round = c->round, rshift = c->rshift, zp = c->zp; \
    const int32_t lo = c->lo;                                                       \
    const uint32_t xe0 = xp[0], xo0 = xp[1];                                        \
    const uint32_t xe1 = (WORDS) > 1 ? xp[2] : 0, xo1 = (WORDS) > 1 ? xp[3] : 0;    \
    const uint32_t xe2 = (WORDS) > 2 ? xp[4] : 0, xo2 = (WORDS) > 2 ? xp[5] : 0;    \
    int32_t m;                                                                      \
    (void)xe1, (void)xo1, (void)xe2, (void)xo2;                                     \
    for (m = 0; m < m_out; ++m, w += 4 * (WORDS)) {                                 \
      int32_t a0 = bias ? bias[m] : 0;                                              \
      BODY;                                                                         \
      out[m] = rq_hi(a0, mult, round, rshift, zp, lo);                              \
    }                                                                               \
  }
DENSE_SMALL_N(dense_small1, 1, DENSE_WORD(0))
DENSE_SMALL_N(dense_small2, 2, DENSE_WORD(0); DENSE_WORD(1))
DENSE_SMALL_N(dense_small3, 3, DENSE_WORD(0); DENSE_WORD(1); DENSE_WORD(2))

/* A per-tensor layer of the high-word form (rshift >= 1, act_max = 127: every trained head)
 * with a small input (4-32 features, a multiple of 4): the input unpacked minus the zero point
 * once, then one row at a time, each output requantised with the constants in registers
 * (dense_small, dense_small1-3). Returns 0 (nothing written) for any other layer. Out of line, so
 * the general kernel below keeps its registers. */
static DENSE_NOINLINE int dense_head(const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                                     int32_t n_in, const int8_t* in, int32_t m_out, const int8_t* w,
                                     const int32_t* bias, int8_t* out) {
  const ppgkd_rq rq = ppgkd_rq_prepare_channel(q, 0);
  const int32_t zp = act->in_zp;
  const uint32_t zp2 = ((uint32_t)zp & 0xFFFFu) | (((uint32_t)zp & 0xFFFFu) << 16);
  uint32_t xp[2 * DENSE_SMALL_WORDS];
  small_rq c;
  int32_t k;
  if (!q->per_tensor || rq.form != 1 || rq.rshift < 1 || act->act_max != 127 || n_in % 4 != 0 ||
      n_in > 4 * DENSE_SMALL_WORDS) {
    return 0;
  }
  for (k = 0; k < n_in / 4; ++k) {
    const uint32_t x4 = ppgkd_read_s8x4(in + 4 * k);
    xp[2 * k] = ppgkd_ssub16(ppgkd_sxtb16(x4), zp2);
    xp[2 * k + 1] = ppgkd_ssub16(ppgkd_sxtb16_ror8(x4), zp2);
  }
  c.mult = rq.mult, c.round = (int32_t)1 << (rq.rshift - 1), c.rshift = rq.rshift;
  c.zp = act->out_zp, c.lo = act->act_min;
  if (n_in == 4) {
    dense_small1(xp, w, bias, m_out, &c, out);
  } else if (n_in == 8) {
    dense_small2(xp, w, bias, m_out, &c, out);
  } else if (n_in == 12) {
    dense_small3(xp, w, bias, m_out, &c, out);
  } else {
    dense_small(xp, n_in / 4, w, bias, m_out, &c, out);
  }
  return 1;
}

/* Output m of the layer: ppgkd_rq_out with the per-tensor constants prepared once (rq_t), or
 * channel m's prepared here; the high-word form without the branch on the form. */
static inline int8_t dense_out(int32_t acc, const ppgkd_per_channel_quant* q, const ppgkd_rq* rq_t,
                               int32_t m, const ppgkd_s8_act* a) {
  ppgkd_rq rq_c;
  const ppgkd_rq* rq = rq_t;
  if (!q->per_tensor) rq_c = ppgkd_rq_prepare_channel(q, m), rq = &rq_c;
  return rq->form == 1 ? ppgkd_rq_out_hi(acc, rq, a) : ppgkd_rq_out(acc, rq, a);
}

DENSE_ATTR void ppgkd_dense_s8_fast(const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q,
                                    int32_t n_in, const int8_t* in, int32_t m_out, const int8_t* w,
                                    const int32_t* bias, int8_t* out) {
  const int32_t zp = act->in_zp;
  const uint32_t zp2 = ((uint32_t)zp & 0xFFFFu) | (((uint32_t)zp & 0xFFFFu) << 16);
  const int32_t n4 = n_in / 4 * 4;
  const ppgkd_s8_act a = *act; /* a copy the int8 stores cannot alias */
  /* a per-tensor layer (the logits head) prepares its one requantisation once */
  const ppgkd_rq rq_t = ppgkd_rq_prepare_channel(q, 0);
  int32_t m = 0, n, r;
  if (n_in <= 4 * DENSE_SMALL_WORDS && dense_head(act, q, n_in, in, m_out, w, bias, out)) return;
  for (; m + 4 <= m_out; m += 4) {
    const int8_t* w0 = w + (int64_t)m * n_in;
    const int8_t* w1 = w0 + n_in;
    const int8_t* w2 = w1 + n_in;
    const int8_t* w3 = w2 + n_in;
    int32_t a0 = bias ? bias[m] : 0, a1 = bias ? bias[m + 1] : 0;
    int32_t a2 = bias ? bias[m + 2] : 0, a3 = bias ? bias[m + 3] : 0;
    for (n = 0; n < n4; n += 4) {
      const uint32_t x4 = ppgkd_read_s8x4(in + n);
      const uint32_t xe = ppgkd_ssub16(ppgkd_sxtb16(x4), zp2);
      const uint32_t xo = ppgkd_ssub16(ppgkd_sxtb16_ror8(x4), zp2);
      uint32_t v = ppgkd_read_s8x4(w0 + n);
      a0 = ppgkd_smlad(ppgkd_sxtb16(v), xe, a0), a0 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), xo, a0);
      v = ppgkd_read_s8x4(w1 + n);
      a1 = ppgkd_smlad(ppgkd_sxtb16(v), xe, a1), a1 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), xo, a1);
      v = ppgkd_read_s8x4(w2 + n);
      a2 = ppgkd_smlad(ppgkd_sxtb16(v), xe, a2), a2 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), xo, a2);
      v = ppgkd_read_s8x4(w3 + n);
      a3 = ppgkd_smlad(ppgkd_sxtb16(v), xe, a3), a3 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), xo, a3);
    }
    for (; n < n_in; ++n) {
      const int32_t xv = (int32_t)in[n] - zp;
      a0 += w0[n] * xv, a1 += w1[n] * xv, a2 += w2[n] * xv, a3 += w3[n] * xv;
    }
    {
      const int32_t acc[4] = {a0, a1, a2, a3};
      for (r = 0; r < 4; ++r) out[m + r] = dense_out(acc[r], q, &rq_t, m + r, &a);
    }
  }
  for (; m < m_out; ++m) {
    const int8_t* w0 = w + (int64_t)m * n_in;
    int32_t a0 = bias ? bias[m] : 0;
    for (n = 0; n < n4; n += 4) {
      const uint32_t x4 = ppgkd_read_s8x4(in + n), v = ppgkd_read_s8x4(w0 + n);
      a0 = ppgkd_smlad(ppgkd_sxtb16(v), ppgkd_ssub16(ppgkd_sxtb16(x4), zp2), a0);
      a0 = ppgkd_smlad(ppgkd_sxtb16_ror8(v), ppgkd_ssub16(ppgkd_sxtb16_ror8(x4), zp2), a0);
    }
    for (; n < n_in; ++n) a0 += w0[n] * ((int32_t)in[n] - zp);
    out[m] = dense_out(a0, q, &rq_t, m, &a);
  }
}

#endif /* PPGKD_FAST_DSP */

#ifdef PPGKD_FAST_AVX2
#include <immintrin.h>

static inline __m256i load_w16u(const int8_t* w) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)w));
}

/* 16 weights from w to int16; the bytes at or past end read as 0 (the last rows of a layer whose
 * N is not a multiple of 16: their padded inputs are 0, and nothing past the weights is read). */
static inline __m256i load_w16(const int8_t* w, const int8_t* end) {
  if (end - w >= 16) return load_w16u(w);
  {
    int8_t t[16] = {0};
    memcpy(t, w, (size_t)(end - w));
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)t));
  }
}

/* The sums of s[0..7] (eight int32 lanes each) as the eight lanes of one vector, in order. */
static inline __m256i hsum8_epi32(const __m256i* s) {
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                          _mm256_permute2x128_si256(a, b, 0x31));
}

/* Eight rows' sums of a per-channel layer to int8 at y[0..rows), as ppgkd_rq_out does each:
 * when every row is of the high-word form (shift -31..-1), the lanes' own multipliers, rounding
 * terms 2^(30 - shift) and right shifts -1 - shift (the form's floor((acc * mult + half) / 2^32)
 * shifted, see ppgkd_rq_prepare; _mm256_sllv_epi64, _mm256_srav_epi32 per lane); else row by
 * row. */
static void rq_rows8(__m256i acc, const ppgkd_per_channel_quant* q, int32_t m, int32_t rows,
                     const ppgkd_s8_act* a, int8_t* y) {
  uint16_t mu[8] = {0};
  int8_t sh[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  int32_t r;
  __m256i mult, shift, ok;
  const uint16_t* mp = q->multiplier + m;
  const int8_t* sp = q->shift + m;
  if (rows < 8) { /* a short block: padded copies (direct loads otherwise: no store forwarding) */
    memcpy(mu, mp, sizeof(uint16_t) * (size_t)rows);
    memcpy(sh, sp, (size_t)rows);
    mp = mu, sp = sh;
  }
  mult = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(const void*)mp)),
                           PPGKD_RQ_MULT_SHIFT);
  shift = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*)(const void*)sp));
  ok = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), shift),
                        _mm256_cmpgt_epi32(shift, _mm256_set1_epi32(PPGKD_SHIFT_MIN - 1)));
  if (_mm256_movemask_epi8(ok) == -1) {
    const __m256i cnt = _mm256_sub_epi32(_mm256_set1_epi32(30), shift); /* 31..61 */
    const __m256i one = _mm256_set1_epi64x(1);
    const __m256i half_even =
        _mm256_sllv_epi64(one, _mm256_and_si256(cnt, _mm256_set1_epi64x(0xFFFFFFFF)));
    const __m256i half_odd = _mm256_sllv_epi64(one, _mm256_srli_epi64(cnt, 32));
    const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(acc, mult), half_even);
    const __m256i odd = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(mult, 32)), half_odd);
    __m256i v = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    __m128i b;
    v = _mm256_srav_epi32(v, _mm256_sub_epi32(_mm256_set1_epi32(-1), shift));
    v = _mm256_add_epi32(v, _mm256_set1_epi32(a->out_zp));
    v = _mm256_max_epi32(v, _mm256_set1_epi32(a->act_min));
    v = _mm256_min_epi32(v, _mm256_set1_epi32(a->act_max));
    v = _mm256_packs_epi16(_mm256_packs_epi32(v, v), v);
    b = _mm_unpacklo_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    if (rows == 8) {
      _mm_storel_epi64((__m128i*)(void*)y, b);
    } else {
      int8_t t[16];
      _mm_storeu_si128((__m128i*)(void*)t, b);
      memcpy(y, t, (size_t)rows);
    }
    return;
  }
  {
    int32_t v[8];
    _mm256_storeu_si256((__m256i*)(void*)v, acc);
    for (r = 0; r < rows; ++r) {
      const ppgkd_rq rq = ppgkd_rq_prepare_channel(q, m + r);
      y[r] = ppgkd_rq_out(v[r], &rq, a);
    }
  }
}

/* AVX2: x - zp once as int16 (exact: -255..255) and zero up to a multiple of 16, then eight rows
 * at a time (four for a short last block): per 16 inputs one load of x and per row one sign
 * extension of 16 weights and one _mm256_madd_epi16 (products <= 127 * 255, pair sums far inside
 * int32; a row shorter than 16 reads into the next row's weights, which meet zeros), the eight
 * rows' sums added across lanes together (hsum8_epi32), plus the biases, requantised eight at a
 * time (ppgkd_avx2_store_row8 per-tensor, rq_rows8 per-channel). Rows past M repeat
 * the block's first row and are not stored. */
void ppgkd_dense_s8_fast(const ppgkd_s8_act* act, const ppgkd_per_channel_quant* q, int32_t n_in,
                         const int8_t* in, int32_t m_out, const int8_t* w, const int32_t* bias,
                         int8_t* out) {
  const ppgkd_s8_act a = *act; /* a copy the int8 stores cannot alias */
  const int32_t n16 = (n_in + 15) / 16 * 16;
  const int8_t* w_end = w + (int64_t)m_out * n_in;
  const ppgkd_rq rq_t = ppgkd_rq_prepare_channel(q, 0); /* per-tensor layers */
  int16_t xs[n16]; /* C99 VLA; the caller keeps n_in <= PPGKD_AVX2_DENSE_MAX_N */
  int32_t m, n, r;
  {
    const __m256i zp16 = _mm256_set1_epi16((int16_t)a.in_zp);
    for (n = 0; n + 16 <= n_in; n += 16) {
      const __m256i v =
          _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)(const void*)(in + n)));
      _mm256_storeu_si256((__m256i*)(void*)(xs + n), _mm256_sub_epi16(v, zp16));
    }
    for (; n < n_in; ++n) xs[n] = (int16_t)((int32_t)in[n] - a.in_zp);
    for (; n < n16; ++n) xs[n] = 0;
  }
  for (m = 0; m < m_out; m += 8) {
    const int32_t rows = m_out - m < 8 ? m_out - m : 8;
    const int8_t* wr[8];
    __m256i s[8], sums;
    for (r = 0; r < 8; ++r) {
      wr[r] = w + (int64_t)(m + (r < rows ? r : 0)) * n_in;
      s[r] = _mm256_setzero_si256();
    }
    if (wr[rows - 1] + n16 <= w_end) { /* every load inside the weights: no checks */
#define DENSE_ROW(r) s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(load_w16u(wr[r] + n), xv))
      if (rows <= 4) {
        for (n = 0; n < n16; n += 16) {
          const __m256i xv = _mm256_loadu_si256((const __m256i*)(const void*)(xs + n));
          DENSE_ROW(0), DENSE_ROW(1), DENSE_ROW(2), DENSE_ROW(3);
        }
      } else {
        for (n = 0; n < n16; n += 16) {
          const __m256i xv = _mm256_loadu_si256((const __m256i*)(const void*)(xs + n));
          DENSE_ROW(0), DENSE_ROW(1), DENSE_ROW(2), DENSE_ROW(3);
          DENSE_ROW(4), DENSE_ROW(5), DENSE_ROW(6), DENSE_ROW(7);
        }
      }
#undef DENSE_ROW
    } else {
      for (n = 0; n < n16; n += 16) {
        const __m256i xv = _mm256_loadu_si256((const __m256i*)(const void*)(xs + n));
        for (r = 0; r < rows; ++r) {
          s[r] = _mm256_add_epi32(s[r], _mm256_madd_epi16(load_w16(wr[r] + n, w_end), xv));
        }
      }
    }
    sums = hsum8_epi32(s);
    if (bias) {
      int32_t b8[8] = {0};
      const int32_t* bp = bias + m;
      if (rows < 8) memcpy(b8, bp, sizeof(int32_t) * (size_t)rows), bp = b8;
      sums = _mm256_add_epi32(sums, _mm256_loadu_si256((const __m256i*)(const void*)bp));
    }
    if (q->per_tensor) {
      ppgkd_avx2_store_row8(sums, &rq_t, &a, rows, out + m);
    } else {
      rq_rows8(sums, q, m, rows, &a, out + m);
    }
  }
}

#endif /* PPGKD_FAST_AVX2 */
