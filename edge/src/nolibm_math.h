/* nolibm_math.h — internal: exp and log in single precision from bit manipulation and
 * polynomials, shared by decode.c (softmax) and tracker.c (transition kernel, tempered emission).
 * Not libm because glibc's and newlib's expf/logf differ in the last bit: these use only IEEE
 * +, -, *, / in a fixed order and no table, so the host and a Cortex-M4 compute the same bits
 * (with -ffp-contract=off and without -ffast-math, as the edge build compiles). The error
 * bounds below hold for every float of each domain (checked against double-precision exp and
 * log). Not part of the public API (include/). */
#ifndef PPGKD_NOLIBM_MATH_H
#define PPGKD_NOLIBM_MATH_H

/* exp(x) for x <= 0: relative error < 1e-7 (1.2 ulp) where the result is a normal float, one
 * more rounding where it is subnormal; exactly 1 at 0; 0 below -104 (under the smallest
 * subnormal) and at -infinity; NaN for NaN. x > 0 is outside the domain (callers subtract a
 * maximum first). */
float ppgkd_exp_nonpos(float x);

/* out[i] = ppgkd_exp_nonpos(x[i]) for i < 8, the same bits, eight lanes at once: defined in AVX2
 * builds only (PPGKD_FAST_AVX2, src/ops/simd.h). */
void ppgkd_exp_nonpos8(const float* x, float* out);

/* ln(x) for finite x > 0 (subnormals included): absolute error < 1e-7 for x in (1/2, 2),
 * relative error < 1.3e-7 elsewhere. */
float ppgkd_log_pos(float x);

#endif /* PPGKD_NOLIBM_MATH_H */
