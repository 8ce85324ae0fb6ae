// online_softmax.h — a softmax over values seen in blocks, never all at once: the running maximum
// m and the sum s of exp(x - m). Merging two partial states rescales each sum to the larger
// maximum. Used by attention (scores of key blocks) and the output head (log-sum-exp over
// vocabulary blocks, so no [T, V] logits are held).
#pragma once

#include "kernels/math/host_device.h"

namespace moescope::kmath {

// The factor that moves an accumulator weighted by exp(x - old_max) to exp(x - new_max), new_max >=
// old_max; 0 when nothing was accumulated yet (old_max = -inf).
MOESCOPE_HD float rescale_factor(float old_max, float new_max) {
  return old_max == -INFINITY ? 0.f : expf(old_max - new_max);
}

struct RunningSoftmax {
  float max = -INFINITY;  // largest value seen (-inf: none yet)
  float sum = 0.f;        // sum of exp(x - max)

  // Folds in one value; returns the factor earlier exp-weighted accumulators must be scaled by.
  MOESCOPE_HD float add(float x) {
    if (x <= max) {
      sum += expf(x - max);
      return 1.f;
    }
    const float scale = rescale_factor(max, x);
    sum = sum * scale + 1.f;
    max = x;
    return scale;
  }

  // Folds in another partial state.
  MOESCOPE_HD void merge(const RunningSoftmax& o) {
    if (o.max == -INFINITY) return;
    if (max == -INFINITY) { *this = o; return; }
    const float m = max > o.max ? max : o.max;
    sum = sum * rescale_factor(max, m) + o.sum * rescale_factor(o.max, m);
    max = m;
  }

  MOESCOPE_HD float log_sum_exp() const { return max + logf(sum); }
};

}  // namespace moescope::kmath
