// qwen_moe.cpp — Qwen2-MoE and Qwen3-MoE: dense layers by decoder_sparse_step / mlp_only_layers,
// optional sliding windows; Qwen2-MoE has q/k/v biases and a sigmoid-gated shared MLP, Qwen3-MoE
// a per-head q/k norm.
#include <algorithm>

#include "engine/error.h"
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

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

void read_qwen_common(const ConfigFields& f, ModelConfig& c, int expert_width, int dense_width, int top_k) {
  c.expert_width = f.integer("moe_intermediate_size", expert_width, 1);
  c.dense_width = f.integer("intermediate_size", dense_width, 1);
  c.num_experts = read_num_experts(f, true);
  c.top_k = f.integer("num_experts_per_tok", top_k, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
}

std::vector<uint8_t> read_qwen2_moe(const ConfigFields& f, ModelConfig& c) {
  read_qwen_common(f, c, 1408, 5632, 4);
  const int window = f.integer("sliding_window", 4096, 0);
  const bool sliding = f.boolean("use_sliding_window", false);
  c.shared_width = f.integer("shared_expert_intermediate_size", 5632, 0);
  c.shared_gate = c.shared_width > 0;
  c.qkv_bias = f.boolean("qkv_bias", true);
  if (f.has("layer_types") && sliding) {
    const std::vector<uint8_t> windowed = windowed_layers(f, c, "sliding_attention");
    for (int l = 0; l < c.num_layers; ++l) {
      if (!windowed[size_t(l)]) continue;
      if (window <= 0) fail(f.where("sliding_window"), "layer_types has sliding layers but no sliding_window is set");
      c.layers[size_t(l)].sliding_window = window;
    }
  } else if (sliding) {  // transformers' default pattern: even layers below max_window_layers slide
    const int max_window_layers = f.integer("max_window_layers", 28, 0);
    for (int l = 0; l < c.num_layers; ++l)
      if ((l + 1) % 2 != 0 && l < max_window_layers) c.layers[size_t(l)].sliding_window = window;
  }
  reject_emo_fields(f, "Qwen2-MoE");
  return qwen_moe_layers(f, c);
}

std::vector<uint8_t> read_qwen3_moe(const ConfigFields& f, ModelConfig& c) {
  read_qwen_common(f, c, 768, 6144, 8);
  const int window = f.integer("sliding_window", 4096, 0);
  const bool sliding = f.boolean("use_sliding_window", false);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
  c.qk_norm = QkNorm::PerHead;
  if (sliding)
    for (auto& s : c.layers) s.sliding_window = window;
  reject_emo_fields(f, "Qwen3-MoE");
  return qwen_moe_layers(f, c);
}

void qwen_names(const ModelConfig&, LayerTensorNames& n) {
  set_llama_layout(n);
}

}  // namespace

const Family kQwen2MoeFamily = {Arch::Qwen2Moe, {"qwen2_moe"}, "Qwen2-MoE", 1e-6f, 32768, 10000.f, read_qwen2_moe, qwen_names};
const Family kQwen3MoeFamily = {Arch::Qwen3Moe, {"qwen3_moe"}, "Qwen3-MoE", 1e-6f, 32768, 10000.f, read_qwen3_moe, qwen_names};

}  // namespace moescope
