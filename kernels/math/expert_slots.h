// expert_slots.h — the index math of grouped experts. A (token t, slot i) pair of a [T, K] routing
// is "slot" s = t * K + i. Slots are sorted by expert (plan: kernels/plan/expert_plan.h) into
// "rows" of the expert-ordered buffer; row_of_slot maps back. Combining reads each token's K
// rows in slot order, so the sum's order is the router's on every backend (deterministic).
#pragma once

#include "kernels/math/host_device.h"

namespace moescope::kmath {

MOESCOPE_HD int64_t slot_token(int64_t slot, int k) { return slot / k; }
MOESCOPE_HD int64_t token_slot(int64_t token, int i, int k) { return token * k + i; }

// y[t, d] = sum over i < K, in order, of scale_i * out[row_of_slot[t*K + i], d]; scale_i = the
// routing weight, or 1 when the weight already scaled the expert's input (Llama 4).
MOESCOPE_HD float combine_slots(const float* out, int64_t ld_out, const int32_t* row_of_slot, const float* weights,
                                bool weight_scales_output, int64_t t, int k, int64_t d) {
  float acc = 0.f;
  for (int i = 0; i < k; ++i) {
    const int64_t s = token_slot(t, i, k);
    const float v = out[int64_t(row_of_slot[s]) * ld_out + d];
    acc += weight_scales_output ? v * weights[s] : v;
  }
  return acc;
}

}  // namespace moescope::kmath
