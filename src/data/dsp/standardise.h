// Per-window standardisation: each channel of a window to zero mean and unit (population)
// variance.
#pragma once

#include <cstddef>

namespace ppgkd {

// In place over n samples; a flat channel (std < eps) becomes all zeros.
void standardise(float* x, size_t n, float eps = 1e-6f);

}  // namespace ppgkd
