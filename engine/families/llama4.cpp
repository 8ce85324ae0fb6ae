// llama4.cpp — Llama 4 text: top-1 sigmoid routing onto the expert's input, a shared expert,
// interleaved MoE layers, NoPE layers with temperature tuning, chunked attention on RoPE layers,
// experts in two input-major banks, blocks under feed_forward.
#include "engine/error.h"
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

std::vector<uint8_t> read_llama4(const ConfigFields& f, ModelConfig& c) {
  c.expert_width = f.integer("intermediate_size", 8192, 1);
  c.shared_width = c.expert_width;
  c.dense_width = f.integer("intermediate_size_mlp", 16384, 1);
  c.num_experts = read_num_experts(f, false);
  if (c.num_experts == 0) c.num_experts = 16;
  c.top_k = f.integer("num_experts_per_tok", 1, 1);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
  c.rope_pairing = RopePairing::Interleaved;
  if (f.boolean("use_qk_norm", true)) c.qk_norm = QkNorm::PerHeadL2;
  c.router.score = ScoreFunc::Sigmoid;
  c.router.scales_input = true;
  c.attn_temperature_tuning = f.boolean("attn_temperature_tuning", true);
  c.attn_scale = f.positive("attn_scale", 0.1f);
  c.floor_scale = float(f.integer("floor_scale", 8192, 1));
  const int interval = f.integer("no_rope_layer_interval", 4, 1);
  auto uses_rope = f.int_list("no_rope_layers");
  if (uses_rope && !uses_rope->empty() && uses_rope->size() != size_t(c.num_layers))
    fail_expected(f.where("no_rope_layers"), "wrong length", std::to_string(c.num_layers) + " entries (num_hidden_layers)",
                  std::to_string(uses_rope->size()));
  const int chunk = f.integer("attention_chunk_size", 8192, 0);
  for (int l = 0; l < c.num_layers; ++l) {
    LayerSpec& s = c.layers[size_t(l)];
    s.rope = uses_rope && !uses_rope->empty() ? (*uses_rope)[size_t(l)] != 0 : (l + 1) % interval != 0;
    s.attention_chunk = s.rope ? chunk : 0;
  }
  if (f.has("layer_types")) {
    const std::vector<uint8_t> chunked = windowed_layers(f, c, "chunked_attention");
    for (int l = 0; l < c.num_layers; ++l) c.layers[size_t(l)].attention_chunk = chunked[size_t(l)] ? chunk : 0;
  }
  reject_emo_fields(f, "Llama 4");
  std::vector<uint8_t> moe(size_t(c.num_layers), 0);
  const int step = f.integer("interleave_moe_layer_step", 1, 1);
  const auto listed = f.int_list("moe_layers");
  if (listed) {
    for (int l : *listed) {
      if (l >= c.num_layers)
        fail_expected(f.where("moe_layers"), "layer index out of range", "< " + std::to_string(c.num_layers) + " (num_hidden_layers)",
                      std::to_string(l));
      moe[size_t(l)] = 1;
    }
  } else {
    for (int l = step - 1; l < c.num_layers; l += step) moe[size_t(l)] = 1;
  }
  return moe;
}

void llama4_names(const ModelConfig&, LayerTensorNames& n) {
  set_llama_norms(n);
  n.mlp = n.prefix + "feed_forward.";
  set_moe_block(n, "feed_forward.", "router.weight");
}

}  // namespace

const Family kLlama4Family = {Arch::Llama4, {"llama4_text"}, "Llama 4", 1e-5f, 131072, 500000.f, read_llama4, llama4_names,
                              nullptr, true};

}  // namespace moescope
