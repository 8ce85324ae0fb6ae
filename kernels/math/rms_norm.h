// rms_norm.h — RMSNorm's per-row math: y = w * (x * r), r = 1 / sqrt(sum(x^2) / n + eps), as the
// CPU path computes it (engine/cpu/cpu_ops.cpp). A GPU block reduces sum(x^2) in its own order;
// the sum is the only part that differs, by float rounding.
#pragma once

#include "kernels/math/host_device.h"

namespace moescope::kmath {

MOESCOPE_HD float rms_inverse(float sum_of_squares, int64_t n, float eps) {
  return 1.f / sqrtf(sum_of_squares / float(n) + eps);
}

// One element; w = nullptr: no weight (Llama 4's per-head L2 norm).
MOESCOPE_HD float rms_scale(float x, float r, const float* w, int64_t i) { return w ? w[i] * (x * r) : x * r; }

}  // namespace moescope::kmath
