/* nolibm_math.c — exp and log without libm (see nolibm_math.h): range reduction by bit
 * manipulation, then a short polynomial. Every operation is a plain +, -, *, / in a fixed order,
 * so the results are the same bits on every IEEE single-precision target. */
#include "nolibm_math.h"

#include <stdint.h>
#include <string.h>

#include "ops/simd.h"

static uint32_t float_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

static float bits_float(uint32_t u) {
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* x * 2^n, exact unless the result is subnormal (then one IEEE rounding, the same everywhere). */
static float scale_pow2(float x, int n) {
  while (n > 127) x *= bits_float(254u << 23), n -= 127;
  while (n < -126) x *= bits_float(1u << 23), n += 126; /* 2^-126, the smallest normal */
  return x * bits_float((uint32_t)(n + 127) << 23);
}

/* ln 2 split so that n * LN2_HI is exact for |n| < 2^12 (LN2_HI has 12 significant bits). */
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682030941723212e-6f

/* x = n ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor series to r^8 (error < 3e-10). */
float ppgkd_exp_nonpos(float x) {
  float r, p;
  int n;
  if (x < -104.0f) return 0.0f;      /* -infinity too */
  if (x != x) return x;              /* NaN: converting it to int below would be undefined */
  n = (int)(x * 1.44269504f - 0.5f); /* round to nearest (x <= 0: truncation goes up) */
  r = (x - (float)n * LN2_HI) - (float)n * LN2_LO;
  p = 1.0f +
      r * (1.0f +
           r * (0.5f + r * (1.0f / 6 +
                            r * (1.0f / 24 +
                                 r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040 +
                                                                          r * (1.0f / 40320))))))));
  return scale_pow2(p, n);
}

/* x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| <= 0.172, series to s^11 (error < 1e-10). */
float ppgkd_log_pos(float x) {
  uint32_t u;
  int e = 0;
  float m, s, s2, series;
  if (x < bits_float(1u << 23)) x *= 16777216.0f, e = -24; /* subnormal: scale by 2^24 first */
  u = float_bits(x);
  e += (int)(u >> 23) - 127;
  m = bits_float((u & 0x7fffffu) | 0x3f800000u); /* [1, 2) */
  if (m > 1.41421356f) m *= 0.5f, ++e;
  s = (m - 1.0f) / (m + 1.0f);
  s2 = s * s;
  series = 1.0f +
           s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9 + s2 * (1.0f / 11)))));
  return (float)e * LN2_HI + ((float)e * LN2_LO + 2.0f * s * series);
}

/* Eight at a time: ppgkd_exp_nonpos lane by lane through the same operations in the same order
 * (each _mm256_mul_ps, _add_ps, _sub_ps rounds as the scalar one; no fused multiply-add;
 * _mm256_cvttps_epi32 truncates as the int conversion), so the same bits. For x in [-104, 0]
 * (every finite argument that gets this far) n is in -150..0, so scale_pow2's loop runs at most
 * once, as its n < -126 step (a multiplication by 1 elsewhere, which is exact); x < -104 gives
 * 0 and NaN itself, as above. AVX2 builds only (decode.c calls it there). */
#ifdef PPGKD_FAST_AVX2
void ppgkd_exp_nonpos8(const float* x, float* out) {
  const __m256 v = _mm256_loadu_ps(x);
  const __m256i n0 = _mm256_cvttps_epi32(
      _mm256_sub_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504f)), _mm256_set1_ps(0.5f)));
  const __m256 nf = _mm256_cvtepi32_ps(n0);
  const __m256 r = _mm256_sub_ps(_mm256_sub_ps(v, _mm256_mul_ps(nf, _mm256_set1_ps(LN2_HI))),
                                 _mm256_mul_ps(nf, _mm256_set1_ps(LN2_LO)));
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 p =
      _mm256_add_ps(_mm256_set1_ps(1.0f / 5040), _mm256_mul_ps(r, _mm256_set1_ps(1.0f / 40320)));
  __m256i lo, n;
  __m256 res;
  p = _mm256_add_ps(_mm256_set1_ps(1.0f / 720), _mm256_mul_ps(r, p));
  p = _mm256_add_ps(_mm256_set1_ps(1.0f / 120), _mm256_mul_ps(r, p));
  p = _mm256_add_ps(_mm256_set1_ps(1.0f / 24), _mm256_mul_ps(r, p));
  p = _mm256_add_ps(_mm256_set1_ps(1.0f / 6), _mm256_mul_ps(r, p));
  p = _mm256_add_ps(_mm256_set1_ps(0.5f), _mm256_mul_ps(r, p));
  p = _mm256_add_ps(one, _mm256_mul_ps(r, p));
  p = _mm256_add_ps(one, _mm256_mul_ps(r, p));
  /* scale_pow2: n < -126 first multiplies by 2^-126 and adds 126 */
  lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(-126), n0);
  p = _mm256_mul_ps(
      p, _mm256_blendv_ps(one, _mm256_set1_ps(bits_float(1u << 23)), _mm256_castsi256_ps(lo)));
  n = _mm256_add_epi32(n0, _mm256_and_si256(lo, _mm256_set1_epi32(126)));
  res = _mm256_mul_ps(
      p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23)));
  /* x < -104: 0 (and -infinity); NaN: x itself */
  res = _mm256_blendv_ps(res, _mm256_setzero_ps(),
                         _mm256_cmp_ps(v, _mm256_set1_ps(-104.0f), _CMP_LT_OQ));
  res = _mm256_blendv_ps(res, v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  _mm256_storeu_ps(out, res);
}
#endif
