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

// Per layer, 1 where `layer_types` names `windowed` ("sliding_attention", "chunked_attention") and
// 0 where it names "full_attention"; anything else is refused by name.
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
  } else {
    c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);
    c.qk_norm = QkNorm::PerHead;
    if (sliding)
      for (auto& s : c.layers) s.sliding_window = window;
  }
  reject_emo_fields(f, qwen2 ? "Qwen2-MoE" : "Qwen3-MoE");
}

// DeepSeek-V2/V3: MLA, shared experts, leading dense layers, grouped routing.
std::vector<uint8_t> read_deepseek(const ConfigFields& f, ModelConfig& c) {
  const bool v3 = c.arch == Arch::DeepseekV3;
  const std::string family = v3 ? "DeepSeek-V3" : "DeepSeek-V2";
  c.dense_width = f.integer("intermediate_size", v3 ? 18432 : 11008, 1);
  c.expert_width = f.integer("moe_intermediate_size", v3 ? 2048 : 1407, 1);
  c.num_experts = f.integer("n_routed_experts", v3 ? 256 : 64, 1);
  c.top_k = f.integer("num_experts_per_tok", v3 ? 8 : std::optional<int>(), 1);
  c.shared_width = c.expert_width * f.integer("n_shared_experts", v3 ? 1 : 2, 0);
  c.qkv_bias = c.o_bias = f.boolean("attention_bias", false);  // q_a / kv_a / o projections
  c.rope_pairing = v3 && !f.boolean("rope_interleave", true) ? RopePairing::Half : RopePairing::Interleaved;
  MlaSpec& m = c.mla;
  m.enabled = true;
  m.q_lora_rank = f.integer("q_lora_rank", f.j.contains("q_lora_rank") ? 0 : 1536, 0);  // null: no q compression
  m.kv_lora_rank = f.integer("kv_lora_rank", 512, 1);
  m.qk_nope_head_dim = f.integer("qk_nope_head_dim", 128, 0);
  m.qk_rope_head_dim = f.integer("qk_rope_head_dim", 64, 2);
  m.v_head_dim = f.integer("v_head_dim", 128, 1);
  if (m.qk_rope_head_dim % 2 != 0)
    fail_expected(f.where("qk_rope_head_dim"), "RoPE needs an even dimension", "an even number", std::to_string(m.qk_rope_head_dim));
  c.head_dim = m.qk_head_dim();
  c.num_kv_heads = c.num_heads;  // every head has its own k and v (from the shared latent)

  RouterSpec& r = c.router;
  r.routed_scaling = f.positive("routed_scaling_factor", v3 ? 2.5f : 1.f);
  if (v3) {
    r.score = ScoreFunc::Sigmoid;
    r.correction_bias = true;
    r.group_score = GroupScore::TopTwoSum;
    r.renorm_eps = 1e-20f;
    c.norm_topk_prob = f.boolean("norm_topk_prob", true);
    r.n_group = f.integer("n_group", 8, 1);
    r.topk_group = f.integer("topk_group", 4, 1);
  } else {
    const std::string method = f.string("topk_method", "greedy");
    if (method == "group_limited_greedy") {
      r.n_group = f.integer("n_group", std::nullopt, 1);
      r.topk_group = f.integer("topk_group", std::nullopt, 1);
    } else if (method != "greedy") {
      fail_expected(f.where("topk_method"), "unsupported routing", "\"greedy\" or \"group_limited_greedy\"", "\"" + method + "\"");
    }
    c.norm_topk_prob = false;  // transformers' DeepSeek-V2 router never renormalises
  }
  if (c.num_experts % r.n_group != 0)
    fail_expected(f.where("n_group"), "must divide the routed experts", "a divisor of " + std::to_string(c.num_experts),
                  std::to_string(r.n_group));
  if (r.topk_group > r.n_group)
    fail_expected(f.where("topk_group"), "more groups kept than there are", "<= " + std::to_string(r.n_group), std::to_string(r.topk_group));
  if (r.topk_group * (c.num_experts / r.n_group) < c.top_k)
    fail_expected(f.where("topk_group"), "the kept groups cannot hold top-k experts",
                  "topk_group x experts per group >= num_experts_per_tok (" + std::to_string(c.top_k) + ")",
                  std::to_string(r.topk_group) + " x " + std::to_string(c.num_experts / r.n_group));
  if (v3 && c.num_experts / r.n_group < 2)
    fail_expected(f.where("n_group"), "DeepSeek-V3 scores a group by its two best experts", "at least 2 experts per group",
                  std::to_string(c.num_experts / r.n_group));
  reject_emo_fields(f, family);
  const int dense_first = f.integer("first_k_dense_replace", v3 ? 3 : 0, 0);
  std::vector<uint8_t> moe(size_t(c.num_layers), 0);
  for (int l = dense_first; l < c.num_layers; ++l) moe[size_t(l)] = 1;
  return moe;
}

// Llama 4 text: top-1 sigmoid routing onto the expert's input, a shared expert, interleaved MoE
// layers, NoPE layers with temperature tuning, chunked attention on RoPE layers.
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
    case Arch::DeepseekV2:
    case Arch::DeepseekV3: return read_deepseek(f, c);
    case Arch::Llama4: return read_llama4(f, c);
  }
  return all_layers(c, 1);
}

}  // namespace moescope
