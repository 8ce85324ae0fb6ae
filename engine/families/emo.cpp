// emo.cpp — EMO (allenai's emergent-modularity MoE; emo-reference.md): pre-norm names
// pre_attention_layernorm / pre_feedforward_layernorm, per-layer expert counts, shared and
// always-active experts, dense layers with their own width and optional bias.
#include "engine/error.h"
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

std::vector<uint8_t> read_emo(const ConfigFields& f, ModelConfig& c) {
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.dense_width = f.integer("dense_intermediate_size", 0, 0);
  c.num_experts = f.integer("num_experts", std::nullopt, 0);
  c.top_k = f.integer("num_experts_per_tok", std::nullopt, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
  c.num_shared_experts = f.integer("num_shared_experts", 0, 0);
  c.dense_mlp_bias = f.boolean("dense_mlp_bias", false);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
  if (f.boolean("qk_norm", false)) fail(f.where("qk_norm"), "EMO checkpoints have no q/k norm (emo-reference.md §1.3)");
  return all_layers(c, 1);
}

void emo_names(const ModelConfig&, LayerTensorNames& n) {
  n.attn_norm = n.prefix + "pre_attention_layernorm.weight";
  n.ffn_norm = n.prefix + "pre_feedforward_layernorm.weight";
  n.mlp = n.prefix + "mlp.";
  set_moe_block(n, "mlp.");
}

}  // namespace

// "flex_olmo_noqknorm_prenorm" is EMO's pre-release name.
const Family kEmoFamily = {Arch::Emo, {"emo", "flex_olmo_noqknorm_prenorm"}, "EMO", 1e-6f, 4096, 500000.f, read_emo, emo_names,
                           nullptr, false, true, "num_experts", "dense_intermediate_size"};

}  // namespace moescope
