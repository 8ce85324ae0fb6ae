// olmoe.cpp — OLMoE and FlexOlmo: one router and a q/k norm over the full projection; OLMoE
// clips q/k/v, FlexOlmo moves the norms after the sublayers (post_attention / post_feedforward).
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

void read_olmoe_common(const ConfigFields& f, ModelConfig& c) {
  c.expert_width = f.integer("intermediate_size", std::nullopt, 1);
  c.num_experts = read_num_experts(f, true);
  c.top_k = f.integer("num_experts_per_tok", std::nullopt, 1);
  c.norm_topk_prob = f.boolean("norm_topk_prob", false);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
  c.qk_norm = QkNorm::Full;
}

std::vector<uint8_t> read_olmoe(const ConfigFields& f, ModelConfig& c) {
  read_olmoe_common(f, c);
  if (f.has("clip_qkv")) c.clip_qkv = f.positive("clip_qkv", 1.f);
  reject_emo_fields(f, "OLMoE");
  return all_layers(c, 1);
}

std::vector<uint8_t> read_flex_olmo(const ConfigFields& f, ModelConfig& c) {
  read_olmoe_common(f, c);
  c.norm_placement = NormPlacement::Post;
  f.reject("clip_qkv", "FlexOlmo has no q/k/v clipping (transformers ignores it; refusing rather than guessing)");
  reject_emo_fields(f, "FlexOlmo");
  return all_layers(c, 1);
}

void olmoe_names(const ModelConfig&, LayerTensorNames& n) {
  set_llama_layout(n);
}

void flex_olmo_names(const ModelConfig&, LayerTensorNames& n) {
  n.attn_norm = n.prefix + "post_attention_layernorm.weight";
  n.ffn_norm = n.prefix + "post_feedforward_layernorm.weight";
  n.mlp = n.prefix + "mlp.";
  set_moe_block(n, "mlp.");
}

}  // namespace

const Family kOlmoeFamily = {Arch::Olmoe, {"olmoe"}, "OLMoE", 1e-5f, 4096, 10000.f, read_olmoe, olmoe_names};
const Family kFlexOlmoFamily = {Arch::FlexOlmo, {"flex_olmo"}, "FlexOlmo", 1e-6f, 4096, 500000.f, read_flex_olmo, flex_olmo_names};

}  // namespace moescope
