// attention_window.h — which keys a query sees inside its document: causal, after a sliding
// window (window > 0: i - window < j <= i) and inside its chunk (chunk > 0: j / chunk == i / chunk),
// positions counted from the document's start. The same rule as engine's AttentionShape::first_key.
#pragma once

#include "kernels/math/host_device.h"

namespace moescope::kmath {

MOESCOPE_HD int64_t first_visible_key(int64_t i, int window, int chunk) {
  int64_t lo = window > 0 ? max_i64(0, i - window + 1) : 0;
  return chunk > 0 ? max_i64(lo, i / chunk * chunk) : lo;
}

}  // namespace moescope::kmath
