// Per-channel standardisation (see standardise.h). Sums in double: a 200-sample window of a PPG
// with a large offset would lose digits in float.
#include "data/dsp/standardise.h"

#include <cmath>

namespace ppgkd {

void standardise(float* x, size_t n, float eps) {
  if (n == 0) return;
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0;
  for (size_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  const double sd = std::sqrt(var / static_cast<double>(n));
  if (!(sd >= eps)) {  // also catches a NaN std
    for (size_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>((x[i] - mean) / sd);
}

}  // namespace ppgkd
