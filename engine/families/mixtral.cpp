// mixtral.cpp — Mixtral: renormalised top-k, an optional sliding window; Hub files keep the MoE
// block as block_sparse_moe.{gate, experts.E.w1/w3/w2}, files saved from transformers' in-memory
// layout as mlp.{gate, experts.*}.
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

std::vector<uint8_t> read_mixtral(const ConfigFields& f, ModelConfig& c) {
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.num_experts = read_num_experts(f, true);
  c.top_k = f.integer("num_experts_per_tok", 2, 1);
  c.norm_topk_prob = true;  // Mixtral always renormalises its top-k probabilities
  const int window = f.integer("sliding_window", 0, 0);
  for (auto& s : c.layers) s.sliding_window = window;
  reject_emo_fields(f, "Mixtral");
  return all_layers(c, 1);
}

void mixtral_names(const ModelConfig&, LayerTensorNames& n) {
  set_llama_norms(n);
  n.mlp = n.prefix + "mlp.";
  set_moe_block(n, "block_sparse_moe.");
  n.gate = "w1";
  n.up = "w3";
  n.down = "w2";
}

void mixtral_saved_names(const ModelConfig&, const Checkpoint& ckpt, LayerTensorNames& n) {
  if (ckpt.find(n.router) || !ckpt.find(n.prefix + "mlp.gate.weight")) return;
  set_moe_block(n, "mlp.");
  n.gate = "gate_proj";
  n.up = "up_proj";
  n.down = "down_proj";
}

}  // namespace

const Family kMixtralFamily = {Arch::Mixtral, {"mixtral"}, "Mixtral", 1e-5f, 131072, 1000000.f, read_mixtral, mixtral_names,
                               mixtral_saved_names};

}  // namespace moescope
