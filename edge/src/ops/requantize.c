/* requantize.c — fixed-point requantisation shared by every int8 kernel, and the int32
 * accumulator bound the loader and the exporter check per layer. Not a kernel itself. */
#include <stdint.h>

#include "ppgkd_edge_ops.h"

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
