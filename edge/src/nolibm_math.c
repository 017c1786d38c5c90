/* nolibm_math.c — exp and log without libm (see nolibm_math.h): range reduction by bit
 * manipulation, then a short polynomial. Every operation is a plain +, -, *, / in a fixed order,
 * so the results are the same bits on every IEEE single-precision target. */
#include "nolibm_math.h"

#include <stdint.h>
#include <string.h>

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
