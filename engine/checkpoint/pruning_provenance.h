// pruning_provenance.h — what a pruned checkpoint says about itself: its pruning_metadata.json
// (written by `subset export`, the app's export, or EMO's own pruning scripts) read into the
// original model, the method and domain, and which original expert each pruned expert is.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/config.h"

namespace moescope {

struct PruningProvenance {
  std::string file;            // DIR/pruning_metadata.json
  std::string original_model;  // as recorded ("" when absent)
  std::string method;          // pruning_method, else method ("" when neither)
  std::string domain;          // moescope's domain, else EMO's task ("" when neither)
  // Per layer of the pruned model: the original ids of its experts in pruned order (shared last),
  // or nullopt where the layer was not pruned (dense, or every expert kept).
  std::vector<std::optional<std::vector<int>>> original_ids;
  // Per layer: the original model's standard experts where known (moescope records it; for
  // EMO's files, from the original model's config.json when that folder is readable), else -1.
  std::vector<int> original_standard;

  // "pruned from /m/emo (domain code, greedy_layerwise): 16 of 127 standard experts per MoE layer"
  std::string summary(const ModelConfig& pruned) const;
  // The original id of pruned expert j of layer l (j itself in a layer that was not pruned).
  int original_id(int layer, int j) const;
};

// Reads DIR/pruning_metadata.json when present (nullopt when not: not a pruned checkpoint) and
// checks it against the pruned model's config. Throws Error naming the file and field. A list
// of kept standard experts only (no shared ids), as some of EMO's files hold, gets the shared
// experts appended from the original layer's size: known from the metadata or the original
// config; where neither is available that layer's mapping is refused when asked for.
std::optional<PruningProvenance> read_pruning_provenance(const std::string& dir, const ModelConfig& pruned);

}  // namespace moescope
