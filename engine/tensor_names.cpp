// tensor_names.cpp — per-family tensor names of a layer.
#include "engine/tensor_names.h"

namespace moescope {

LayerTensorNames layer_tensor_names(const ModelConfig& c, const Checkpoint& ckpt, int l) {
  LayerTensorNames n;
  n.prefix = c.tensor_prefix + "model.layers." + std::to_string(l) + ".";
  if (c.arch == Arch::Emo) {
    n.attn_norm = n.prefix + "pre_attention_layernorm.weight";
    n.ffn_norm = n.prefix + "pre_feedforward_layernorm.weight";
  } else if (c.norm_placement == NormPlacement::Post) {
    n.attn_norm = n.prefix + "post_attention_layernorm.weight";
    n.ffn_norm = n.prefix + "post_feedforward_layernorm.weight";
  } else {
    n.attn_norm = n.prefix + "input_layernorm.weight";
    n.ffn_norm = n.prefix + "post_attention_layernorm.weight";
  }
  n.mlp = n.prefix + (c.arch == Arch::Llama4 ? "feed_forward." : "mlp.");
  n.moe = n.mlp;
  if (c.arch == Arch::Mixtral && !ckpt.find(n.moe + "gate.weight") && ckpt.find(n.prefix + "block_sparse_moe.gate.weight")) {
    n.moe = n.prefix + "block_sparse_moe.";
    n.gate = "w1";
    n.up = "w3";
    n.down = "w2";
  }
  n.router = n.moe + (c.arch == Arch::Llama4 ? "router.weight" : "gate.weight");
  n.experts = n.moe + "experts.";
  const bool deepseek = c.arch == Arch::DeepseekV2 || c.arch == Arch::DeepseekV3;
  n.shared = n.moe + (deepseek ? "shared_experts." : "shared_expert.");
  return n;
}

std::string model_tensor(const ModelConfig& c, const std::string& name) { return c.tensor_prefix + name; }

}  // namespace moescope
