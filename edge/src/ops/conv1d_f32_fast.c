/* conv1d_f32_fast.c — f32 conv1d and dense on x86-64 AVX2 + FMA (PPGKD_FAST_AVX2, simd.h; other
 * builds compile nothing here). Arguments as ppgkd_conv1d_f32 / ppgkd_dense_f32, already checked.
 *
 * Not bit-identical to the portable kernels, by design: each sum runs in eight lanes with one
 * rounding per fused multiply-add, the lanes are added at the end, then the bias. Every output
 * is a sum of n + 1 terms (n = C_in * K or N products and the bias) rounded at most n + 1 times
 * along any path, in the portable kernel as here, so (Higham, "Accuracy and Stability of
 * Numerical Algorithms", eq. 3.5, with u = 2^-24)
 *     |fast - exact|, |portable - exact| <= gamma(n + 1) * (sum |w * x| + |b|),
 *     gamma(k) = k u / (1 - k u),
 * and the two differ by at most 2 gamma(n + 1) (sum |w * x| + |b|): a relative tolerance of
 * about (n + 1) 2^-23 of the sum of absolute terms, which is what the tests allow. Padded taps
 * add w * 0 here where the portable kernel skips them: the same value, except that an output
 * with a -0.0 bias and only padded taps is +0.0 here.
 *
 * conv1d: groups of four output positions; their columns (im2col_f32, zeros where a tap falls
 * outside the input) on the stack, then per output channel four 8-lane accumulators. */
#include "simd.h"

#ifdef PPGKD_FAST_AVX2
#include <immintrin.h>

/* Columns of up to this many taps take the AVX2 path (4 positions of floats on the stack). */
#define AVX2_F32_MAX_TAPS 8192
#define AVX2_F32_MIN_TAPS 16

static inline float hsum_ps(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

/* col[ci * K + k] = x[ci, t * stride - padding + k * dilation], 0 outside the input. */
static void im2col_f32(const ppgkd_conv1d_params* p, const float* in, int32_t c_in, int32_t l_in,
                       int32_t kk, int32_t t, float* col) {
  const int64_t start = (int64_t)t * p->stride - p->padding;
  int32_t ci, k;
  for (ci = 0; ci < c_in; ++ci, in += l_in, col += kk) {
    for (k = 0; k < kk; ++k) {
      const int64_t pos = start + (int64_t)k * p->dilation;
      col[k] = pos >= 0 && pos < l_in ? in[pos] : 0.0f;
    }
  }
}

static float relu_f32(float v, int32_t relu) {
  return relu && v < 0.0f ? 0.0f : v;
}

int ppgkd_conv1d_f32_fast(const ppgkd_conv1d_params* p, int32_t c_in, int32_t l_in, const float* in,
                          int32_t c_out, int32_t kk, const float* w, const float* bias,
                          int32_t l_out, float* out) {
  const int64_t n64 = (int64_t)c_in * kk;
  /* Below two vectors of taps per output the portable kernel is faster (no im2col to amortise:
   * r1's 3-4 channel layers ran 1.6x slower here). */
  if (n64 < AVX2_F32_MIN_TAPS || n64 > AVX2_F32_MAX_TAPS) return 0;
  {
    const int32_t n = (int32_t)n64, whole = n / 8 * 8;
    float cols[4 * n]; /* C99 VLA, sized to the layer */
    int32_t t, co, j, i;
    for (t = 0; t < l_out; t += 4) {
      const int32_t m = l_out - t < 4 ? l_out - t : 4; /* a short last group repeats t + m - 1 */
      for (j = 0; j < 4; ++j)
        im2col_f32(p, in, c_in, l_in, kk, t + (j < m ? j : m - 1), cols + j * n);
      for (co = 0; co < c_out; ++co) {
        const float* wc = w + (int64_t)co * n;
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        float sum[4];
        for (i = 0; i < whole; i += 8) {
          const __m256 wv = _mm256_loadu_ps(wc + i);
          s0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(cols + i), s0);
          s1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(cols + n + i), s1);
          s2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(cols + 2 * n + i), s2);
          s3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(cols + 3 * n + i), s3);
        }
        sum[0] = hsum_ps(s0), sum[1] = hsum_ps(s1), sum[2] = hsum_ps(s2), sum[3] = hsum_ps(s3);
        for (j = 0; j < m; ++j) {
          float v = sum[j];
          for (i = whole; i < n; ++i) v += wc[i] * cols[j * n + i];
          out[(int64_t)co * l_out + t + j] = relu_f32((bias ? bias[co] : 0.0f) + v, p->relu);
        }
      }
    }
  }
  return 1;
}

/* dense: four rows at a time, one load of x per eight inputs for the four rows. */
void ppgkd_dense_f32_fast(int32_t relu, int32_t n_in, const float* in, int32_t m_out,
                          const float* w, const float* bias, float* out) {
  const int32_t whole = n_in / 8 * 8;
  int32_t m, n, r;
  for (m = 0; m < m_out; m += 4) {
    const int32_t rows = m_out - m < 4 ? m_out - m : 4;
    const float* wr[4];
    __m256 s[4];
    for (r = 0; r < 4; ++r) {
      wr[r] = w + (int64_t)(m + (r < rows ? r : 0)) * n_in; /* rows past M repeat row m */
      s[r] = _mm256_setzero_ps();
    }
    for (n = 0; n < whole; n += 8) {
      const __m256 xv = _mm256_loadu_ps(in + n);
      s[0] = _mm256_fmadd_ps(_mm256_loadu_ps(wr[0] + n), xv, s[0]);
      s[1] = _mm256_fmadd_ps(_mm256_loadu_ps(wr[1] + n), xv, s[1]);
      s[2] = _mm256_fmadd_ps(_mm256_loadu_ps(wr[2] + n), xv, s[2]);
      s[3] = _mm256_fmadd_ps(_mm256_loadu_ps(wr[3] + n), xv, s[3]);
    }
    for (r = 0; r < rows; ++r) {
      float v = hsum_ps(s[r]);
      for (n = whole; n < n_in; ++n) v += wr[r][n] * in[n];
      out[m + r] = relu_f32((bias ? bias[m + r] : 0.0f) + v, relu);
    }
  }
}

#endif /* PPGKD_FAST_AVX2 */
