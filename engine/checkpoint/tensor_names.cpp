// tensor_names.cpp — per-family tensor names of a layer.
#include "engine/checkpoint/tensor_names.h"

namespace moescope {

namespace {

// The MoE block's names under `block` ("mlp.", "block_sparse_moe.", "feed_forward.").
void set_moe_block(LayerTensorNames& n, const ModelConfig& c, const std::string& block) {
  n.moe = n.prefix + block;
  n.router = n.moe + (c.arch == Arch::Llama4 ? "router.weight" : "gate.weight");
  n.router_bias = n.moe + "gate.e_score_correction_bias";
  n.experts = n.moe + "experts.";
  const bool deepseek = c.arch == Arch::DeepseekV2 || c.arch == Arch::DeepseekV3;
  n.shared = n.moe + (deepseek ? "shared_experts." : "shared_expert.");
}

}  // namespace

LayerTensorNames hub_layer_tensor_names(const ModelConfig& c, int l) {
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
  if (c.arch == Arch::Mixtral) {
    set_moe_block(n, c, "block_sparse_moe.");
    n.gate = "w1";
    n.up = "w3";
    n.down = "w2";
  } else {
    set_moe_block(n, c, c.arch == Arch::Llama4 ? "feed_forward." : "mlp.");
  }
  return n;
}

LayerTensorNames layer_tensor_names(const ModelConfig& c, const Checkpoint& ckpt, int l) {
  LayerTensorNames n = hub_layer_tensor_names(c, l);
  if (c.arch == Arch::Mixtral && !ckpt.find(n.router) && ckpt.find(n.prefix + "mlp.gate.weight")) {
    set_moe_block(n, c, "mlp.");
    n.gate = "gate_proj";
    n.up = "up_proj";
    n.down = "down_proj";
  }
  return n;
}

std::string model_tensor(const ModelConfig& c, const std::string& name) { return c.tensor_prefix + name; }

}  // namespace moescope
