// pruned_checkpoint.h — writes an expert subset of a checkpoint as a smaller Hugging Face
// checkpoint, the way EMO's pruning scripts do (emo-reference.md §4.5): BF16 safetensors, experts
// renumbered contiguously (kept standard experts in ascending original order, then the shared
// ones), router rows sliced to match, config.json edited (num_experts / per-layer lists,
// num_experts_per_tok, always-active ids renumbered), and pruning_metadata.json with the
// original ids per layer. The folder appears whole or not at all (built beside, then renamed).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/subset.h"

namespace moescope {

struct PrunedCheckpointInfo {
  std::vector<std::vector<int>> kept_per_layer;  // original ids per MoE layer (standard then shared); empty for dense
  size_t tensors = 0;
  size_t bytes = 0;
};

// `metadata` is merged into pruning_metadata.json (method, domain, calibration, ...).
// Throws Error when the output exists (no overwrite), the subset is invalid for the model, or
// the model's architecture cannot express the subset (OLMoE configs have no per-layer counts).
PrunedCheckpointInfo write_pruned_checkpoint(const std::string& model_dir, const ExpertSubset& subset,
                                             const std::string& out_dir, const nlohmann::json& metadata);

}  // namespace moescope
