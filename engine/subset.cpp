// subset.cpp — reading and validating expert-subset (keep) files.
#include "engine/subset.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

ExpertSubset ExpertSubset::all(const ModelConfig& config) {
  ExpertSubset s;
  s.kept_per_layer.resize(size_t(config.num_layers));
  return s;
}

ExpertSubset ExpertSubset::from_file(const std::string& path, const ModelConfig& config) {
  return from_json_text(read_text_file(path, "subset file"), path, config);
}

ExpertSubset ExpertSubset::from_json_text(const std::string& text, const std::string& source, const ModelConfig& config) {
  const nlohmann::json j = parse_json(text, source);
  const std::string field = source + ": field 'experts_kept_per_layer'";
  if (!j.is_object() || !j.contains("experts_kept_per_layer")) fail(field, "missing (required)");
  const auto& layers = j["experts_kept_per_layer"];
  if (!layers.is_array() || layers.size() != size_t(config.num_layers)) {
    // A file chosen for another model usually fails here first: say which model it was for.
    std::string chosen_for;
    if (j.contains("model") && j["model"].is_object() && j["model"].contains("path") && j["model"]["path"].is_string())
      chosen_for = "; the file was chosen for " + j["model"]["path"].get<std::string>();
    fail_expected(field, "wrong length", "a list of " + std::to_string(config.num_layers) + " entries (one per layer)",
                  (layers.is_array() ? std::to_string(layers.size()) + " entries" : std::string(layers.type_name())) + chosen_for);
  }
  ExpertSubset s;
  if (j.contains("model") && !j["model"].is_null()) {
    const auto& m = j["model"];
    const std::string at = source + ": field 'model'";
    auto text = [&](const char* key) {
      if (!m.is_object() || !m.contains(key) || !m[key].is_string())
        fail_expected(at, std::string("no '") + key + "'", "path, config_hash and weights_hash strings", brief(m));
      return m[key].get<std::string>();
    };
    s.chosen_for = ModelIdentity{text("path"), text("config_hash"), text("weights_hash")};
  }
  for (int l = 0; l < config.num_layers; ++l) {
    const auto& entry = layers[size_t(l)];
    const LayerSpec& spec = config.layers[size_t(l)];
    const std::string at = field + " layer " + std::to_string(l);
    if (entry.is_null()) {
      s.kept_per_layer.emplace_back(std::nullopt);
      continue;
    }
    if (!entry.is_array()) fail_expected(at, "bad entry", "a list of expert ids or null", brief(entry));
    if (!spec.is_moe()) fail_expected(at, "layer is dense", "null", brief(entry));
    std::vector<int> ids;
    for (const auto& x : entry) {
      if (!x.is_number_integer()) fail_expected(at, "bad expert id", "an integer", brief(x));
      int64_t e = x.get<int64_t>();
      if (x.is_number_unsigned() ? x.get<uint64_t>() >= uint64_t(spec.num_experts) : (e < 0 || e >= spec.num_experts))
        fail_expected(at, "expert id out of range", "0.." + std::to_string(spec.num_experts - 1), brief(x));
      ids.push_back(int(e));
    }
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) fail(at, "an expert id is listed twice");
    s.kept_per_layer.emplace_back(std::move(ids));
    if (spec.mode == RoutingMode::Plain && s.kept_standard(config, l) == 0)
      fail_expected(at, "keeps no expert this layer could route to", "at least one expert id", "none");
  }
  return s;
}

void check_subset_model(const ExpertSubset& subset, const std::string& source, const ModelIdentity& model) {
  if (!subset.chosen_for) return;
  const ModelIdentity& was = *subset.chosen_for;
  if (was.config_hash == model.config_hash && was.weights_hash == model.weights_hash) return;
  auto name = [](const ModelIdentity& m) {
    return m.path + " (config " + m.config_hash + ", weights " + m.weights_hash + ")";
  };
  fail(source, "chosen for another model: " + name(was) + ", not " + name(model) +
                   "; --force-subset applies it anyway");
}

bool ExpertSubset::is_full(int layer) const {
  return size_t(layer) >= kept_per_layer.size() || !kept_per_layer[size_t(layer)].has_value();
}

bool ExpertSubset::keeps(const ModelConfig& config, int layer, int expert) const {
  const LayerSpec& spec = config.layers[size_t(layer)];
  if (is_full(layer) || spec.always_kept(expert)) return true;
  const auto& ids = *kept_per_layer[size_t(layer)];
  return std::binary_search(ids.begin(), ids.end(), expert);
}

int ExpertSubset::kept_standard(const ModelConfig& config, int layer) const {
  const LayerSpec& spec = config.layers[size_t(layer)];
  int n = 0;
  for (int e = 0; e < spec.num_standard(); ++e) n += keeps(config, layer, e) ? 1 : 0;
  return n;
}

int ExpertSubset::top_k(const ModelConfig& config) const {
  int k = config.top_k;
  for (int l = 0; l < config.num_layers; ++l) {
    const LayerSpec& spec = config.layers[size_t(l)];
    if (!spec.is_moe()) continue;
    int kept = 0;
    for (int e = 0; e < spec.num_experts; ++e) kept += keeps(config, l, e) ? 1 : 0;
    k = std::min(k, kept);
  }
  return k;
}

}  // namespace moescope
