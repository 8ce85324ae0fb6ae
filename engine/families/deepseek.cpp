// deepseek.cpp — DeepSeek-V2 and -V3: multi-head latent attention, shared experts, leading dense
// layers, grouped routing (V2: softmax, optional group-limited greedy; V3: sigmoid scores with a
// selection bias, groups scored by their two best experts).
#include "engine/error.h"
#include "engine/families/family.h"
#include "engine/families/family_fields.h"

namespace moescope {

namespace {

std::vector<uint8_t> read_deepseek(const ConfigFields& f, ModelConfig& c, bool v3) {
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

std::vector<uint8_t> read_deepseek_v2(const ConfigFields& f, ModelConfig& c) { return read_deepseek(f, c, false); }
std::vector<uint8_t> read_deepseek_v3(const ConfigFields& f, ModelConfig& c) { return read_deepseek(f, c, true); }

void deepseek_names(const ModelConfig&, LayerTensorNames& n) {
  set_llama_norms(n);
  n.mlp = n.prefix + "mlp.";
  set_moe_block(n, "mlp.", "gate.weight", "shared_experts.");
}

}  // namespace

const Family kDeepseekV2Family = {Arch::DeepseekV2, {"deepseek_v2"}, "DeepSeek-V2", 1e-6f, 2048, 10000.f, read_deepseek_v2,
                                  deepseek_names, nullptr, false, false, "n_routed_experts"};
const Family kDeepseekV3Family = {Arch::DeepseekV3, {"deepseek_v3"}, "DeepSeek-V3", 1e-6f, 4096, 10000.f, read_deepseek_v3,
                                  deepseek_names, nullptr, false, false, "n_routed_experts"};

}  // namespace moescope
