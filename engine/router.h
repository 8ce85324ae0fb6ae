// router.h — expert selection of one MoE layer for every token (emo-reference.md §1.4):
// modes A (always-active), B (shared experts, separate softmax) and C (plain softmax top-K),
// norm_topk_prob, and the subset mask (dropped standard experts get logit -inf).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/config.h"

namespace moescope {

struct RouterOutput {
  int k = 0;                          // experts selected per token (K, fewer under a small subset)
  std::vector<int32_t> topk_ids;      // [T, k] original expert ids, in the reference's order
  std::vector<float> topk_weights;    // [T, k]
  std::vector<float> probs;           // [T, E-S] probabilities over the standard experts (after the mask)
};

// logits [T, E] (row-major, raw). kept[e] == 0 drops standard expert e (ignored for shared and
// always-active experts). probs are filled only when want_probs. In mode C the family's router
// applies (score function, correction_bias [E] for selection, groups, renormalisation, scaling);
// probs then hold its scores (softmax probabilities or sigmoids).
RouterOutput route_tokens(const float* logits, int64_t T, const LayerSpec& spec, int top_k, bool norm_topk_prob,
                          const std::vector<uint8_t>& kept, bool want_probs, const RouterSpec& router = {},
                          const float* correction_bias = nullptr);

}  // namespace moescope
