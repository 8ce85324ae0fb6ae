// config.h — the model config: config.json interpreted per architecture family, with the
// per-layer MoE structure resolved (experts, shared experts, always-active experts, dense layers).
// Shape legend (used in every tensor comment): T tokens, D hidden, L layers, E experts in the
// layer, S shared experts, K experts per token, I expert width, H heads, Hkv KV heads, Dh head dim,
// V vocabulary, N documents.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace moescope {

// The checkpoint families the engine runs (config.json `model_type`; see docs/ARCHITECTURE.md).
enum class Arch { Emo, Olmoe, FlexOlmo, Mixtral, Mistral, Qwen2Moe, Qwen3Moe, DeepseekV2, DeepseekV3, Llama4 };

// Where the per-layer RMSNorms sit. Pre: x += f(norm(x)) (Llama, OLMoE, EMO, Mixtral, Qwen).
// Post: x += norm(f(x)) (OLMo 2 and FlexOlmo; there is no norm on the sublayer input).
enum class NormPlacement { Pre, Post };

// RMSNorm on q and k after their projections. Full: over the whole projection [H*Dh] (OLMoE,
// FlexOlmo). PerHead: over each head's Dh values with one [Dh] weight (Qwen3-MoE).
// PerHeadL2: per head without a weight, after RoPE, on RoPE layers only (Llama 4).
enum class QkNorm { None, Full, PerHead, PerHeadL2 };

// How RoPE pairs a head's dimensions. Half: i with i + d/2 (NeoX, Llama). Interleaved: 2i with
// 2i+1 (DeepSeek, Llama 4's complex form). Both rotate the pair at frequency i.
enum class RopePairing { Half, Interleaved };

// RoPE frequency scaling: config `rope_scaling` (4.x) or `rope_parameters` (5.x), field `rope_type`
// (or `type`). Computed as transformers 5.23's modeling_rope_utils does (engine/rope_scaling.h);
// "dynamic" and "longrope" depend on the sequence length and are refused.
enum class RopeType { Default, Linear, Yarn, Llama3 };

struct RopeSpec {
  RopeType type = RopeType::Default;
  double theta = 10000.0;                     // rope_theta as written (ModelConfig::rope_theta is its float)
  double factor = 1.0;                        // linear, yarn, llama3: context extension factor
  int original_max_position_embeddings = 0;   // yarn, llama3: pretraining context (default max_position_embeddings)
  std::optional<double> attention_factor;     // yarn: cos/sin multiplier; unset: from factor and mscale
  double beta_fast = 32.0, beta_slow = 1.0;   // yarn: ramp bounds, in rotations over the original context
  double mscale = 0.0, mscale_all_dim = 0.0;  // yarn (DeepSeek): 0 = not set
  bool truncate = true;                       // yarn: ramp bounds rounded outwards to whole dimensions
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3: wavelength band that is smoothed
};

// How a router turns logits into scores. Softmax over the layer's experts, or an independent
// sigmoid per expert (DeepSeek-V3, Llama 4).
enum class ScoreFunc { Softmax, Sigmoid };

// Group-limited routing (DeepSeek): experts in n_group consecutive groups; a group's score is the
// max of its scores (V2) or the sum of its two best selection scores (V3); only the topk_group
// best groups may be chosen from.
enum class GroupScore { Max, TopTwoSum };

struct RouterSpec {
  ScoreFunc score = ScoreFunc::Softmax;
  bool correction_bias = false;   // DeepSeek-V3: selection by score + e_score_correction_bias, weights from score
  int n_group = 1, topk_group = 1;
  GroupScore group_score = GroupScore::Max;
  float routed_scaling = 1.f;     // weights are multiplied by this after any renormalisation
  float renorm_eps = 0.f;         // renormalised weights divide by (sum + renorm_eps)
  bool scales_input = false;      // Llama 4: the weight multiplies the expert's input, not its output
};

// Multi-head latent attention (DeepSeek-V2/V3). Per head, q and k are [nope | rope] wide and v is
// v_head_dim wide; k_nope and v come up from a kv_lora_rank latent, k_rope is one key for all heads.
struct MlaSpec {
  bool enabled = false;
  int q_lora_rank = 0;      // 0: q_proj straight from the hidden state (V2-Lite)
  int kv_lora_rank = 0;
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

// How a MoE layer picks its experts (emo-reference.md §1.4, tried in this priority order).
enum class RoutingMode {
  AlwaysActive,  // A: softmax over all E; always-active experts first, then top-(K-|AA|) of the rest
  Shared,        // B: last S experts are shared (own softmax); top-(K-S) of softmax over the first E-S
  Plain,         // C: softmax over E, top-K
};

struct LayerSpec {
  int num_experts = 0;               // E of this layer; 0 means a dense SwiGLU MLP
  int num_shared = 0;                // S: the last S experts
  std::vector<int> always_active;    // expert ids of mode A
  RoutingMode mode = RoutingMode::Plain;
  int sliding_window = 0;            // > 0: a query sees only the last W keys (itself included)
  int attention_chunk = 0;           // > 0: a query sees only keys of its own C-token chunk (Llama 4)
  bool rope = true;                  // false: a NoPE layer (Llama 4), with temperature tuning instead

  bool is_moe() const { return num_experts > 0; }
  int num_standard() const { return num_experts - num_shared; }   // E - S, the routable experts
  int first_shared() const { return num_experts - num_shared; }
  // The one rule for what no subset can drop: shared experts and always-active ones (subset.h,
  // router.cpp, the loader and every memory count go through ExpertSubset::keeps or this).
  bool always_kept(int e) const {
    return e >= first_shared() || std::find(always_active.begin(), always_active.end(), e) != always_active.end();
  }
};

struct ModelConfig {
  Arch arch = Arch::Emo;
  std::string model_type;           // as written in config.json
  // Prepended to every tensor name: "language_model." for Llama 4's multimodal checkpoints
  // (model_type "llama4": the text model is read from text_config, the vision tower ignored).
  std::string tensor_prefix;
  int hidden_size = 0;              // D
  int num_layers = 0;               // L
  int num_heads = 0;                // H
  int num_kv_heads = 0;             // Hkv
  int head_dim = 0;                 // Dh
  int expert_width = 0;             // I: routed experts' width (intermediate_size or moe_intermediate_size)
  int dense_width = 0;              // width of dense layers' MLP (dense_intermediate_size, Qwen's intermediate_size)
  int shared_width = 0;             // > 0: an always-on shared MLP outside the routed experts (Qwen2-MoE)
  bool shared_gate = false;         // Qwen2-MoE: the shared MLP's output is scaled by sigmoid(shared_expert_gate · h)
  int top_k = 0;                    // K (num_experts_per_tok), global for every layer
  int num_experts = 0;              // global num_experts
  int num_shared_experts = 0;       // global num_shared_experts
  bool norm_topk_prob = false;
  bool dense_mlp_bias = false;
  bool qkv_bias = false;            // q, k, v projections have a bias
  bool o_bias = false;              // the output projection has a bias
  bool tie_word_embeddings = false;
  NormPlacement norm_placement = NormPlacement::Pre;
  QkNorm qk_norm = QkNorm::None;
  RopePairing rope_pairing = RopePairing::Half;
  RouterSpec router;
  MlaSpec mla;
  // Llama 4 NoPE layers: q at position t is scaled by 1 + attn_scale * ln(1 + floor((t + 1) / floor_scale)).
  bool attn_temperature_tuning = false;
  float attn_scale = 0.1f;
  float floor_scale = 8192.f;
  std::optional<float> clip_qkv;    // OLMoE: clamp q, k, v to [-c, c]
  float rms_norm_eps = 1e-6f;
  float rope_theta = 10000.f;
  RopeSpec rope;                    // scaling type and fields; rope.theta == rope_theta in double
  int max_position_embeddings = 0;
  int vocab_size = 0;               // V: from config, then replaced by the embedding's rows
  std::optional<int> eos_token_id;
  std::optional<int> pad_token_id;
  std::vector<LayerSpec> layers;    // one per layer

  // Reads and validates config.json; throws Error naming the file and the field.
  static ModelConfig from_file(const std::string& path);
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source);

  int num_moe_layers() const;
  int max_experts() const;          // the largest E over layers
};

// The family's canonical model_type ("emo", "mixtral", ...).
const char* arch_name(Arch arch);

// The rope_type string of a RoPE type ("default", "linear", "yarn", "llama3").
const char* rope_type_name(RopeType type);

}  // namespace moescope
