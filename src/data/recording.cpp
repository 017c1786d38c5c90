#include "data/recording.h"

#include <cmath>

namespace ppgkd {

size_t windows_that_fit(size_t n, double fs) {
  const size_t len = static_cast<size_t>(std::lround(kWindowSeconds * fs));
  const size_t step = static_cast<size_t>(std::lround(kStepSeconds * fs));
  if (n < len || step == 0) return 0;
  return (n - len) / step + 1;
}

}  // namespace ppgkd
