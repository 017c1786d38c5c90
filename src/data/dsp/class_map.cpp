// The BPM <-> class map and the decoding rule (see class_map.h).
#include "data/dsp/class_map.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"

namespace ppgkd {

int bpm_to_class(double bpm) {
  if (!std::isfinite(bpm)) throw Error("class map", "heart rate is not finite");
  const double c = std::floor(bpm - kMinBpm);
  return static_cast<int>(std::clamp(c, 0.0, static_cast<double>(kNumClasses - 1)));
}

double class_center_bpm(int c) {
  return kMinBpm + 0.5 + c;
}

double decode_bpm(const float* prob, int radius, double* confidence) {
  if (radius < 0) {
    throw Error("class map", "decoding radius must be >= 0 (got " + std::to_string(radius) + ")");
  }
  const int arg = static_cast<int>(std::max_element(prob, prob + kNumClasses) - prob);
  const int lo = std::max(0, arg - radius), hi = std::min(kNumClasses - 1, arg + radius);
  double mass = 0, weighted = 0;
  for (int c = lo; c <= hi; ++c) {
    mass += prob[c];
    weighted += prob[c] * class_center_bpm(c);
  }
  if (confidence) *confidence = mass > 0 ? mass : 0;
  return mass > 0 ? weighted / mass : class_center_bpm(arg);
}

void smooth_posterior(float* prob, double sigma) {
  if (!(std::isfinite(sigma) && sigma >= 0 && sigma <= 30))
    throw Error("class map", "posterior smoothing must be in [0, 30] classes (got " +
                                 std::to_string(sigma) + ")");
  if (sigma == 0) return;
  const int r = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> w(r + 1);
  double sum = 0;
  for (int d = 0; d <= r; ++d) {
    w[d] = std::exp(-0.5 * d * d / (sigma * sigma));
    sum += d == 0 ? w[d] : 2 * w[d];
  }
  const std::vector<float> in(prob, prob + kNumClasses);
  for (int c = 0; c < kNumClasses; ++c) {
    double v = 0;
    for (int k = std::max(0, c - r); k <= std::min(kNumClasses - 1, c + r); ++k)
      v += w[std::abs(k - c)] * in[k];
    prob[c] = static_cast<float>(v / sum);
  }
}

double decode_posterior_bpm(const float* prob, int radius, double* confidence, double sigma) {
  std::vector<float> p(prob, prob + kNumClasses);
  smooth_posterior(p.data(), sigma);
  return decode_bpm(p.data(), radius, confidence);
}

}  // namespace ppgkd
