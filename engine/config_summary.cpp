// config_summary.cpp — human-readable family descriptions.
#include "engine/config_summary.h"

#include <algorithm>
#include <cstdio>

namespace moescope {

namespace {

std::string number(float x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", double(x));
  return buf;
}

}  // namespace

std::string describe_routing(const ModelConfig& c) {
  if (c.num_moe_layers() == 0) return "none (dense model)";
  const RouterSpec& r = c.router;
  std::string s = r.score == ScoreFunc::Softmax ? "softmax" : "sigmoid";
  if (r.correction_bias) s += " + correction bias";
  s += (r.correction_bias ? ", top-" : " top-") + std::to_string(c.top_k) + " of " + std::to_string(c.max_experts());
  if (r.n_group > 1) s += " in the " + std::to_string(r.topk_group) + " best of " + std::to_string(r.n_group) + " groups";
  if (c.norm_topk_prob) s += ", renormalised";
  if (r.routed_scaling != 1.f) s += ", x" + number(r.routed_scaling);
  if (r.scales_input) s += ", weight on the expert's input";
  bool shared = false, always_active = false;
  for (const LayerSpec& l : c.layers) {
    shared = shared || l.num_shared > 0;
    always_active = always_active || !l.always_active.empty();
  }
  if (always_active) s += "; always-active experts";
  if (shared) s += "; routed shared experts (own softmax)";
  return s;
}

std::string describe_attention(const ModelConfig& c) {
  std::string s;
  if (c.mla.enabled) {
    const MlaSpec& m = c.mla;
    s = "MLA " + std::to_string(c.num_heads) + " heads (" +
        (m.q_lora_rank > 0 ? "q latent " + std::to_string(m.q_lora_rank) + ", " : std::string()) + "kv latent " +
        std::to_string(m.kv_lora_rank) + ", q/k " + std::to_string(m.qk_nope_head_dim) + " + rope " +
        std::to_string(m.qk_rope_head_dim) + ", v " + std::to_string(m.v_head_dim) + ")";
  } else {
    s = (c.num_kv_heads == c.num_heads ? "MHA " : "GQA ") + std::to_string(c.num_heads) + " heads / " +
        std::to_string(c.num_kv_heads) + " key-value, head_dim " + std::to_string(c.head_dim);
  }
  if (c.qkv_bias && !c.mla.enabled) s += ", q/k/v bias";
  if (c.norm_placement == NormPlacement::Post) s += ", post-norm";
  if (c.qk_norm == QkNorm::Full) s += ", q/k norm";
  if (c.qk_norm == QkNorm::PerHead) s += ", per-head q/k norm";
  if (c.qk_norm == QkNorm::PerHeadL2) s += ", L2 q/k norm";
  if (c.clip_qkv) s += ", q/k/v clipped to " + number(*c.clip_qkv);
  int window = 0, chunk = 0, nope = 0;
  for (const LayerSpec& l : c.layers) {
    window = std::max(window, l.sliding_window);
    chunk = std::max(chunk, l.attention_chunk);
    nope += l.rope ? 0 : 1;
  }
  if (window > 0) s += ", sliding window " + std::to_string(window);
  if (chunk > 0) s += ", chunks of " + std::to_string(chunk);
  if (nope > 0) s += ", no RoPE in " + std::to_string(nope) + (nope == 1 ? " layer" : " layers");
  s += c.rope_pairing == RopePairing::Interleaved ? ", RoPE interleaved" : ", RoPE half-split";
  return s;
}

std::string describe_shared_mlp(const ModelConfig& c) {
  if (c.shared_width <= 0) return "";
  return std::string(c.shared_gate ? "sigmoid-gated " : "") + "shared MLP, width " + std::to_string(c.shared_width) + " (not routed)";
}

}  // namespace moescope
