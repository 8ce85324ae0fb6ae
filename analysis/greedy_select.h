// greedy_select.h — the selection methods that re-run the model: EMO's greedy layer-wise expert selection (emo-reference.md §4.2): for each MoE
// layer in order, route the calibration documents through the model with the earlier layers
// already pruned, average that layer's routing probabilities over the tokens, keep its top-k
// standard experts, then go on to the next layer.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/model.h"

namespace moescope {

// calib: token ids of the calibration documents (each within the model's context).
// scores_out (optional): per MoE layer, the mean probabilities the choice was made from.
ExpertSubset greedy_layerwise_subset(const Model& model, const std::vector<std::vector<int32_t>>& calib, int k,
                                     int64_t batch_tokens = 16384,
                                     std::vector<std::vector<double>>* scores_out = nullptr);

// EASY-EP (emo-reference.md §4.3): one pass of the unpruned model over the calibration documents;
// per MoE layer the top-k standard experts by sum of weight * ||expert output|| * token weight.
ExpertSubset easy_ep_subset(const Model& model, const std::vector<std::vector<int32_t>>& calib, int k,
                            int64_t batch_tokens = 16384, std::vector<std::vector<double>>* scores_out = nullptr);

}  // namespace moescope
