// pruning_provenance.cpp — reading and checking pruning_metadata.json (pruning_provenance.h).
#include "engine/checkpoint/pruning_provenance.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/json_file.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

std::string text_field(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
  return "";
}

// The original model's per-layer expert counts from its config, when that folder is readable.
std::vector<int> original_counts_from_config(const std::string& original_model, int layers) {
  if (original_model.empty()) return {};
  try {
    const ModelConfig c = ModelConfig::from_file((fs::path(original_model) / "config.json").string());
    if (c.num_layers != layers) return {};
    std::vector<int> out;
    for (const LayerSpec& s : c.layers) out.push_back(s.num_experts);
    return out;
  } catch (const Error&) {
    return {};  // moved or not here: the counts stay unknown
  }
}

}  // namespace

std::optional<PruningProvenance> read_pruning_provenance(const std::string& dir, const ModelConfig& pruned) {
  const std::string path = (fs::path(dir) / "pruning_metadata.json").string();
  if (!fs::exists(path)) return std::nullopt;
  const nlohmann::json j = read_json_file(path, "pruning metadata");
  if (!j.is_object()) fail_expected(path, "not an object", "a JSON object", brief(j));
  PruningProvenance p;
  p.file = path;
  p.original_model = text_field(j, {"original_model"});
  p.method = text_field(j, {"pruning_method", "method"});
  p.domain = text_field(j, {"domain", "task"});
  const std::string field = path + ": field 'experts_kept_per_layer'";
  if (!j.contains("experts_kept_per_layer")) fail(field, "missing (required)");
  const auto& kept = j["experts_kept_per_layer"];
  const int L = pruned.num_layers;
  if (!kept.is_array() || kept.size() != size_t(L))
    fail_expected(field, "wrong length", "one entry per layer of the pruned model (" + std::to_string(L) + ")",
                  kept.is_array() ? std::to_string(kept.size()) + " entries" : kept.type_name());
  // The original layer sizes: recorded by moescope's export, else the original config.
  std::vector<int> original_experts;
  if (j.contains("original_experts_per_layer") && j["original_experts_per_layer"].is_array() &&
      j["original_experts_per_layer"].size() == size_t(L)) {
    for (const auto& x : j["original_experts_per_layer"])
      original_experts.push_back(x.is_number_integer() ? x.get<int>() : -1);
  } else {
    original_experts = original_counts_from_config(p.original_model, L);
  }
  for (int l = 0; l < L; ++l) {
    const LayerSpec& s = pruned.layers[size_t(l)];
    const int E0 = original_experts.empty() ? -1 : original_experts[size_t(l)];
    p.original_standard.push_back(E0 > 0 ? E0 - s.num_shared : -1);
    const auto& entry = kept[size_t(l)];
    const std::string at = field + " layer " + std::to_string(l);
    if (entry.is_null() || !s.is_moe()) {
      p.original_ids.emplace_back(std::nullopt);
      continue;
    }
    if (!entry.is_array()) fail_expected(at, "bad entry", "a list of original expert ids or null", brief(entry));
    std::vector<int> ids;
    for (const auto& x : entry) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > (1 << 30))
        fail_expected(at, "bad expert id", "a non-negative integer", brief(x));
      ids.push_back(x.get<int>());
    }
    if (!std::is_sorted(ids.begin(), ids.end()) || std::adjacent_find(ids.begin(), ids.end()) != ids.end())
      fail_expected(at, "ids not ascending", "distinct original ids in ascending order (the pruned order)", brief(entry));
    if (int(ids.size()) == s.num_standard() && s.num_shared > 0 && E0 > 0) {
      // Standard experts only: the shared ones are the original layer's last S.
      for (int i = 0; i < s.num_shared; ++i) ids.push_back(E0 - s.num_shared + i);
    }
    if (int(ids.size()) != s.num_experts && int(ids.size()) != s.num_standard())
      fail_expected(at, "does not match the pruned model",
                    std::to_string(s.num_experts) + " ids (the layer's experts) or " + std::to_string(s.num_standard()) +
                        " (its standard ones)",
                    std::to_string(ids.size()));
    if (E0 > 0 && ids.back() >= E0)
      fail_expected(at, "expert id out of range", "< " + std::to_string(E0) + " (the original layer's experts)",
                    std::to_string(ids.back()));
    p.original_ids.emplace_back(std::move(ids));
  }
  return p;
}

int PruningProvenance::original_id(int layer, int j) const {
  const auto& ids = original_ids.at(size_t(layer));
  if (!ids) return j;
  if (j < 0 || size_t(j) >= ids->size())
    fail(file, "layer " + std::to_string(layer) + " lists only the standard experts and the original model's size is unknown: "
               "cannot name the original id of pruned expert " + std::to_string(j));
  return (*ids)[size_t(j)];
}

std::string PruningProvenance::summary(const ModelConfig& pruned) const {
  std::string s = "pruned from " + (original_model.empty() ? std::string("an unnamed model") : original_model);
  std::string detail;
  if (!domain.empty()) detail = "domain " + domain;
  if (!method.empty()) detail += (detail.empty() ? "" : ", ") + method;
  if (!detail.empty()) s += " (" + detail + ")";
  // Kept of original standard experts over the pruned MoE layers: one figure when uniform.
  int kmin = 1 << 30, kmax = 0, omin = 1 << 30, omax = -1;
  for (int l = 0; l < pruned.num_layers; ++l) {
    const LayerSpec& spec = pruned.layers[size_t(l)];
    if (!spec.is_moe() || !original_ids[size_t(l)]) continue;
    kmin = std::min(kmin, spec.num_standard());
    kmax = std::max(kmax, spec.num_standard());
    omin = std::min(omin, original_standard[size_t(l)]);
    omax = std::max(omax, original_standard[size_t(l)]);
  }
  if (kmax == 0) return s + ": no layer pruned";
  auto range = [](int a, int b) { return a == b ? std::to_string(a) : std::to_string(a) + "-" + std::to_string(b); };
  s += ": " + range(kmin, kmax) + " of " + (omin > 0 ? range(omin, omax) : std::string("?")) +
       " standard experts per pruned MoE layer";
  return s;
}

}  // namespace moescope
