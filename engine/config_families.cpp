// config_families.cpp — what each family's config.json says beyond the common transformer
// fields: expert counts and widths, router options, shared MLPs, attention variants, and which
// layers are MoE. Defaults are those of the family's transformers config class.
#include "engine/config_families.h"

#include <algorithm>

namespace moescope {

namespace {

// Experts per MoE layer: `num_experts`, or `num_local_experts` (Mixtral's name for it).
int read_num_experts(const ConfigFields& f, bool required) {
  if (f.has("num_experts")) return f.integer("num_experts", std::nullopt, 0);
  if (f.has("num_local_experts") || required) return f.integer("num_local_experts", std::nullopt, 0);
  return 0;
}

// Fields of EMO's per-layer structure; any other family would ignore them, so they are refused.
void reject_emo_fields(const ConfigFields& f, const std::string& family) {
  const std::string why = "not a field of " + family + " configs (model_type 'emo' has per-layer experts)";
  for (const char* k : {"num_shared_experts", "num_experts_per_layer", "num_shared_experts_per_layer",
                        "always_active_experts", "always_active_experts_per_layer", "dense_intermediate_size"})
    f.reject(k, why);
}

std::vector<uint8_t> all_layers(const ModelConfig& c, uint8_t moe) { return std::vector<uint8_t>(size_t(c.num_layers), moe); }

// Qwen's rule: layer l is MoE unless listed in mlp_only_layers or off the decoder_sparse_step grid.
std::vector<uint8_t> qwen_moe_layers(const ConfigFields& f, const ModelConfig& c) {
  const int step = f.integer("decoder_sparse_step", 1, 1);
  const auto mlp_only = f.int_list("mlp_only_layers").value_or(std::vector<int>{});
  for (int l : mlp_only)
    if (l >= c.num_layers)
      fail_expected(f.where("mlp_only_layers"), "layer index out of range", "< " + std::to_string(c.num_layers) + " (num_hidden_layers)",
                    std::to_string(l));
  std::vector<uint8_t> moe(size_t(c.num_layers), 0);
  for (int l = 0; l < c.num_layers; ++l)
    moe[size_t(l)] = c.num_experts > 0 && (l + 1) % step == 0 &&
                     std::find(mlp_only.begin(), mlp_only.end(), l) == mlp_only.end();
  return moe;
}

// Sliding-window attention per layer from `layer_types` ("sliding_attention"/"full_attention").
void read_layer_types(const ConfigFields& f, ModelConfig& c, int window) {
  const nlohmann::json& v = f.j["layer_types"];
  if (!v.is_array() || v.size() != size_t(c.num_layers))
    fail_expected(f.where("layer_types"), "wrong shape", std::to_string(c.num_layers) + " strings (num_hidden_layers)", brief(v));
  for (int l = 0; l < c.num_layers; ++l) {
    const nlohmann::json& t = v[size_t(l)];
    if (t == "sliding_attention") {
      if (window <= 0) fail(f.where("sliding_window"), "layer_types has sliding layers but no sliding_window is set");
      c.layers[size_t(l)].sliding_window = window;
    } else if (t != "full_attention") {
      fail_expected(f.where("layer_types"), "unknown layer type", "\"sliding_attention\" or \"full_attention\"", brief(t));
    }
  }
}

void read_emo(const ConfigFields& f, ModelConfig& c) {
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.dense_width = f.integer("dense_intermediate_size", 0, 0);
  c.num_experts = f.integer("num_experts", std::nullopt, 0);
  c.top_k = f.integer("num_experts_per_tok", std::nullopt, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
  c.num_shared_experts = f.integer("num_shared_experts", 0, 0);
  c.dense_mlp_bias = f.boolean("dense_mlp_bias", false);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
  if (f.boolean("qk_norm", false)) fail(f.where("qk_norm"), "EMO checkpoints have no q/k norm (emo-reference.md §1.3)");
}

// OLMoE and FlexOlmo share the router and q/k norm; FlexOlmo moves the norms after the sublayers.
void read_olmoe_like(const ConfigFields& f, ModelConfig& c, const std::string& family) {
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.num_experts = read_num_experts(f, true);
  c.top_k = f.integer("num_experts_per_tok", std::nullopt, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
  c.qk_norm = QkNorm::Full;
  if (c.arch == Arch::Olmoe) {
    if (f.has("clip_qkv")) c.clip_qkv = f.positive("clip_qkv", 1.f);
  } else {
    c.norm_placement = NormPlacement::Post;
    f.reject("clip_qkv", "FlexOlmo has no q/k/v clipping (transformers ignores it; refusing rather than guessing)");
  }
  reject_emo_fields(f, family);
}

void read_mixtral(const ConfigFields& f, ModelConfig& c) {
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.num_experts = read_num_experts(f, true);
  c.top_k = f.integer("num_experts_per_tok", 2, 1);
  c.norm_topk_prob = true;  // Mixtral always renormalises its top-k probabilities
  const int window = f.integer("sliding_window", 0, 0);
  for (auto& s : c.layers) s.sliding_window = window;
  reject_emo_fields(f, "Mixtral");
}

void read_mistral(const ConfigFields& f, ModelConfig& c) {
  c.dense_width = f.integer("intermediate_size", std::nullopt, 1);
  // transformers' MistralConfig defaults to a 4096 window when the key is absent; null means none.
  const int window = f.j.contains("sliding_window") ? f.integer("sliding_window", 0, 0) : 4096;
  for (auto& s : c.layers) s.sliding_window = window;
  f.reject("num_experts", "a Mistral (dense) config has no experts: use model_type 'mixtral'");
  f.reject("num_local_experts", "a Mistral (dense) config has no experts: use model_type 'mixtral'");
}

void read_qwen_moe(const ConfigFields& f, ModelConfig& c) {
  const bool qwen2 = c.arch == Arch::Qwen2Moe;
  c.expert_width = f.integer("moe_intermediate_size", qwen2 ? 1408 : 768, 1);
  c.dense_width = f.integer("intermediate_size", qwen2 ? 5632 : 6144, 1);
  c.num_experts = read_num_experts(f, true);
  c.top_k = f.integer("num_experts_per_tok", qwen2 ? 4 : 8, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
  const int window = f.integer("sliding_window", 4096, 0);
  const bool sliding = f.boolean("use_sliding_window", false);
  if (qwen2) {
    c.shared_width = f.integer("shared_expert_intermediate_size", 5632, 0);
    c.shared_gate = c.shared_width > 0;
    c.qkv_bias = f.boolean("qkv_bias", true);
    if (f.has("layer_types") && sliding) {
      read_layer_types(f, c, window);
    } else if (sliding) {  // transformers' default pattern: even layers below max_window_layers slide
      const int max_window_layers = f.integer("max_window_layers", 28, 0);
      for (int l = 0; l < c.num_layers; ++l)
        if ((l + 1) % 2 != 0 && l < max_window_layers) c.layers[size_t(l)].sliding_window = window;
    }
  } else {
    c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
    c.qk_norm = QkNorm::PerHead;
    if (sliding)
      for (auto& s : c.layers) s.sliding_window = window;
  }
  reject_emo_fields(f, qwen2 ? "Qwen2-MoE" : "Qwen3-MoE");
}

}  // namespace

std::vector<uint8_t> read_family_fields(const ConfigFields& f, ModelConfig& c) {
  c.layers.assign(size_t(c.num_layers), LayerSpec{});
  switch (c.arch) {
    case Arch::Emo: read_emo(f, c); return all_layers(c, 1);
    case Arch::Olmoe: read_olmoe_like(f, c, "OLMoE"); return all_layers(c, 1);
    case Arch::FlexOlmo: read_olmoe_like(f, c, "FlexOlmo"); return all_layers(c, 1);
    case Arch::Mixtral: read_mixtral(f, c); return all_layers(c, 1);
    case Arch::Mistral: read_mistral(f, c); return all_layers(c, 0);
    case Arch::Qwen2Moe:
    case Arch::Qwen3Moe: read_qwen_moe(f, c); return qwen_moe_layers(f, c);
  }
  return all_layers(c, 1);
}

}  // namespace moescope
