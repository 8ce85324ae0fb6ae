// swiglu.h — the gated MLP's element: silu(g) * u = g / (1 + e^-g) * u; and the sigmoid gate of
// Qwen2-MoE's shared expert.
#pragma once

#include "kernels/math/host_device.h"

namespace moescope::kmath {

MOESCOPE_HD float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }
MOESCOPE_HD float swiglu(float g, float u) { return g / (1.f + expf(-g)) * u; }

}  // namespace moescope::kmath
