// param_count.cpp — counting a config's weights tensor by tensor (the shapes weights.cpp loads).
#include "engine/param_count.h"

namespace moescope {

double inactive_params(const ModelConfig& c) {
  const double expert = 3.0 * double(c.hidden_size) * double(c.expert_width);
  double n = 0;
  for (const LayerSpec& s : c.layers)
    if (s.is_moe()) n += double(s.num_experts - c.top_k) * expert;
  return n;
}

namespace {

// Multi-head latent attention: q (straight or through the q latent), kv latent, kv up-projection, o.
double mla_params(const ModelConfig& c) {
  const MlaSpec& m = c.mla;
  const double D = c.hidden_size, H = c.num_heads, Rq = m.q_lora_rank, Rkv = m.kv_lora_rank;
  const double Dqk = m.qk_head_dim(), Dr = m.qk_rope_head_dim, Dn = m.qk_nope_head_dim, Dv = m.v_head_dim;
  double n = 0;
  if (m.q_lora_rank > 0) n += Rq * D + Rq + H * Dqk * Rq + (c.qkv_bias ? Rq : 0);
  else n += H * Dqk * D;
  n += (Rkv + Dr) * D + (c.qkv_bias ? Rkv + Dr : 0) + Rkv;
  n += H * (Dn + Dv) * Rkv;
  n += D * H * Dv;
  return n;
}

}  // namespace

ParamCounts count_params(const ModelConfig& c) {
  const double D = c.hidden_size, V = c.vocab_size, H = c.num_heads, Hkv = c.num_kv_heads, Dh = c.head_dim;
  ParamCounts p;
  double total = V * D + D;                  // embedding, final norm
  if (!c.tie_word_embeddings) total += V * D;  // output head
  for (const LayerSpec& s : c.layers) {
    total += 2 * D;                                            // the two norms
    if (c.mla.enabled) {
      total += mla_params(c);
    } else {
      total += 2 * H * Dh * D + 2 * Hkv * Dh * D;              // q, o; k, v
      if (c.qkv_bias) total += H * Dh + 2 * Hkv * Dh;
    }
    if (c.o_bias) total += D;
    if (c.qk_norm == QkNorm::Full) total += H * Dh + Hkv * Dh;
    if (c.qk_norm == QkNorm::PerHead) total += 2 * Dh;
    if (!s.is_moe()) {
      total += 3 * D * double(c.dense_width);
      if (c.dense_mlp_bias) total += 2 * double(c.dense_width) + D;
      continue;
    }
    total += double(s.num_experts) * D;                        // router
    if (c.router.correction_bias) total += double(s.num_experts);
    total += double(s.num_experts) * 3 * D * double(c.expert_width);  // routed experts
    total += 3 * D * double(c.shared_width) + (c.shared_gate ? D : 0);
  }
  p.total = total;
  p.active = total - inactive_params(c);
  return p;
}

}  // namespace moescope
