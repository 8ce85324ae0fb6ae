// subset.h — an expert subset: which original standard experts each layer keeps.
// Read from a JSON whose `experts_kept_per_layer` lists kept original expert ids per layer
// (null = all) — the key of EMO's pruning_metadata.json, so EMO's own files work as they are.
// Dropped standard experts get router logit -inf before the softmax (identical to a pruned
// checkpoint); shared and always-active experts are always kept.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/checkpoint/model_identity.h"
#include "engine/config.h"

namespace moescope {

struct ExpertSubset {
  // Per layer: sorted kept expert ids, or nullopt for "all experts".
  std::vector<std::optional<std::vector<int>>> kept_per_layer;

  static ExpertSubset all(const ModelConfig& config);
  // Validates against the config (layer count, id ranges, dense layers null); throws Error.
  static ExpertSubset from_file(const std::string& path, const ModelConfig& config);
  static ExpertSubset from_json_text(const std::string& text, const std::string& source, const ModelConfig& config);

  bool is_full(int layer) const;
  // True when expert e of layer is kept (shared and always-active experts always are).
  bool keeps(const ModelConfig& config, int layer, int expert) const;
  // Standard (routable) experts kept in the layer.
  int kept_standard(const ModelConfig& config, int layer) const;
  // Experts per token every layer routes with under this subset: the config's top-k capped at the
  // fewest experts any MoE layer keeps (shared and always-active included). That is what the
  // pruned checkpoint's num_experts_per_tok says (one global value, as in EMO's config and its
  // greedy_prune_layerwise_variable.py), so `--keep`, the app and the export route alike.
  int top_k(const ModelConfig& config) const;

  // The model the subset was chosen for: the file's "model" record (path, config_hash,
  // weights_hash), as `subset select` and the app write it. None for a hand-written file or EMO's
  // own pruning_metadata.json, which name no hashes.
  std::optional<ModelIdentity> chosen_for;
};

// Refuses (Error naming the file and both models) a subset chosen for another checkpoint: one
// whose recorded config or weights hash differs from `model`'s. A subset that names no model
// passes. `--force-subset` on the command line skips this check.
void check_subset_model(const ExpertSubset& subset, const std::string& source, const ModelIdentity& model);

}  // namespace moescope
