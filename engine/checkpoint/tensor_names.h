// tensor_names.h — where each family keeps a layer's weights in a Hugging Face checkpoint.
// Norms differ by family (EMO pre_*, OLMo 2 post_*, Llama-style input/post_attention); Mixtral's
// Hub files keep the MoE block as block_sparse_moe.{gate, experts.E.w1/w3/w2}, while files
// saved from transformers' in-memory layout use mlp.{gate, experts.gate_up_proj/down_proj}.
#pragma once

#include <string>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"

namespace moescope {

struct LayerTensorNames {
  std::string prefix;     // "model.layers.L." (after c.tensor_prefix)
  std::string attn_norm;  // full names of the two per-layer norms
  std::string ffn_norm;
  std::string mlp;        // the dense MLP's block: "model.layers.L.mlp." ("feed_forward." in Llama 4)
  std::string moe;        // "model.layers.L.mlp." or "model.layers.L.block_sparse_moe." or "...feed_forward."
  std::string router;     // moe + "gate.weight" (Llama 4: moe + "router.weight")
  std::string router_bias;  // DeepSeek-V3's selection bias: moe + "gate.e_score_correction_bias"
  std::string experts;    // moe + "experts."
  std::string shared;     // the shared MLP: moe + "shared_expert." (DeepSeek: "shared_experts.")
  // Per-expert projection names: experts + E + "." + gate + ".weight" (gate_proj or w1, ...).
  const char* gate = "gate_proj";
  const char* up = "up_proj";
  const char* down = "down_proj";

  std::string expert(int e, const char* part) const { return experts + std::to_string(e) + "." + part + ".weight"; }
};

// A model-level tensor's name in c's checkpoints ("model.embed_tokens.weight", "lm_head.weight",
// "model.norm.weight"), with the family's prefix (Llama 4 multimodal: "language_model.").
std::string model_tensor(const ModelConfig& c, const std::string& name);

// The Hub names of layer l (what save_pretrained writes, and what pruned exports write).
LayerTensorNames hub_layer_tensor_names(const ModelConfig& c, int l);

// Names for layer l in ckpt: the Hub names, except Mixtral files saved from transformers'
// in-memory layout (mlp.{gate, experts.*} instead of block_sparse_moe.*), taken from what ckpt holds.
LayerTensorNames layer_tensor_names(const ModelConfig& c, const Checkpoint& ckpt, int l);

}  // namespace moescope
