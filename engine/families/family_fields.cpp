// family_fields.cpp — config and naming helpers several families share.
#include "engine/families/family_fields.h"

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

int read_num_experts(const ConfigFields& f, bool required) {
  if (f.has("num_experts")) return f.integer("num_experts", std::nullopt, 0);
  if (f.has("num_local_experts") || required) return f.integer("num_local_experts", std::nullopt, 0);
  return 0;
}

void reject_emo_fields(const ConfigFields& f, const std::string& family) {
  const std::string why = "not a field of " + family + " configs (model_type 'emo' has per-layer experts)";
  for (const char* k : {"num_shared_experts", "num_experts_per_layer", "num_shared_experts_per_layer",
                        "always_active_experts", "always_active_experts_per_layer", "dense_intermediate_size"})
    f.reject(k, why);
}

std::vector<uint8_t> all_layers(const ModelConfig& c, uint8_t moe) { return std::vector<uint8_t>(size_t(c.num_layers), moe); }

std::vector<uint8_t> windowed_layers(const ConfigFields& f, const ModelConfig& c, const std::string& windowed) {
  const nlohmann::json& v = f.j["layer_types"];
  if (!v.is_array() || v.size() != size_t(c.num_layers))
    fail_expected(f.where("layer_types"), "wrong shape", std::to_string(c.num_layers) + " strings (num_hidden_layers)", brief(v));
  std::vector<uint8_t> out(size_t(c.num_layers), 0);
  for (int l = 0; l < c.num_layers; ++l) {
    const nlohmann::json& t = v[size_t(l)];
    if (t == windowed) out[size_t(l)] = 1;
    else if (t != "full_attention")
      fail_expected(f.where("layer_types"), "unknown layer type", "\"" + windowed + "\" or \"full_attention\"", brief(t));
  }
  return out;
}

void set_moe_block(LayerTensorNames& n, const std::string& block, const char* router_leaf, const char* shared_leaf) {
  n.moe = n.prefix + block;
  n.router = n.moe + router_leaf;
  n.router_bias = n.moe + "gate.e_score_correction_bias";
  n.experts = n.moe + "experts.";
  n.shared = n.moe + shared_leaf;
}

void set_llama_norms(LayerTensorNames& n) {
  n.attn_norm = n.prefix + "input_layernorm.weight";
  n.ffn_norm = n.prefix + "post_attention_layernorm.weight";
}

void set_llama_layout(LayerTensorNames& n) {
  set_llama_norms(n);
  n.mlp = n.prefix + "mlp.";
  set_moe_block(n, "mlp.");
}

}  // namespace moescope
