// attention_layer.cpp — the CPU backend's attention sublayer of every family: grouped-query
// attention with optional q/k norms, clipping, sliding or chunked windows, NoPE layers with
// temperature tuning (Llama 4), and DeepSeek's multi-head latent attention.
#include <cmath>

#include "engine/cpu/cpu_pass.h"
#include "engine/rope_scaling.h"

namespace moescope {

namespace {

// Llama 4 NoPE layers: q of the token at position t is scaled by 1 + s * ln(1 + floor((t + 1) / f)).
void temperature_tune(ActMatrix& q, const ModelConfig& c, const std::vector<uint32_t>& pos) {
  for (Eigen::Index t = 0; t < q.rows(); ++t)
    q.row(t) *= 1.f + c.attn_scale * std::log1p(std::floor((float(pos[size_t(t)]) + 1.f) / c.floor_scale));
}

}  // namespace

void CpuPass::attention(int l, const Activations& input, Activations& output) {
  const ModelConfig& c = c_;
  const LayerSpec& spec = c.layers[size_t(l)];
  const LayerWeights& lw = w_.layers[size_t(l)];
  const int H = c.num_heads, Hkv = c.num_kv_heads, Dh = c.head_dim;
  const ActMatrix& x = input.host;  // [T, D]
  ActMatrix& out = output.host;     // [T, D]
  const std::vector<DocumentSpan>& docs = batch_.docs;
  const RopeTable& rope = batch_.rope;
  ActMatrix &q = q_, &k = k_, &v = v_, &attn = attn_;
  if (c.mla.enabled) {
    mla_qkv(l, x, q, k, v);
    const MlaSpec& m = c.mla;
    attention_packed(q, k, v, {H, H, m.qk_head_dim(), m.v_head_dim, mla_softmax_scale(c.rope, m.qk_head_dim()), 0, 0}, docs, attn);
    linear(attn, lw.o, lw.o_bias, out);  // [T, D]
    return;
  }
  linear(x, lw.q, lw.q_bias, q);  // [T, H*Dh]
  linear(x, lw.k, lw.k_bias, k);  // [T, Hkv*Dh]
  linear(x, lw.v, lw.v_bias, v);  // [T, Hkv*Dh]
  if (c.qk_norm == QkNorm::Full) {
    moescope::rms_norm_inplace(q, lw.q_norm, c.rms_norm_eps);
    moescope::rms_norm_inplace(k, lw.k_norm, c.rms_norm_eps);
  } else if (c.qk_norm == QkNorm::PerHead) {
    rms_norm_heads_inplace(q, lw.q_norm, H, Dh, c.rms_norm_eps);
    rms_norm_heads_inplace(k, lw.k_norm, Hkv, Dh, c.rms_norm_eps);
  }
  if (c.clip_qkv) {
    const float cl = *c.clip_qkv;
    q = q.cwiseMax(-cl).cwiseMin(cl);
    k = k.cwiseMax(-cl).cwiseMin(cl);
    v = v.cwiseMax(-cl).cwiseMin(cl);
  }
  if (spec.rope) {
    rope_apply(q, H, Dh, 0, rope, c.rope_pairing);
    rope_apply(k, Hkv, Dh, 0, rope, c.rope_pairing);
    if (c.qk_norm == QkNorm::PerHeadL2) {  // Llama 4: after RoPE, no weight
      rms_norm_heads_inplace(q, Matrix{}, H, Dh, c.rms_norm_eps);
      rms_norm_heads_inplace(k, Matrix{}, Hkv, Dh, c.rms_norm_eps);
    }
  } else if (c.attn_temperature_tuning) {
    temperature_tune(q, c, rope.position);
  }
  attention_packed(q, k, v, {H, Hkv, Dh, Dh, 1.f / std::sqrt(float(Dh)), spec.sliding_window, spec.attention_chunk}, docs, attn);
  linear(attn, lw.o, lw.o_bias, out);  // [T, D]
}

// q [T, H*(nope+rope)], k [T, H*(nope+rope)], v [T, H*Dv] of multi-head latent attention.
void CpuPass::mla_qkv(int l, const ActMatrix& x, ActMatrix& q, ActMatrix& k, ActMatrix& v) {
  const ModelConfig& c = c_;
  const RopeTable& rope = batch_.rope;
  const MlaSpec& m = c.mla;
  const LayerWeights& lw = w_.layers[size_t(l)];
  const int H = c.num_heads, Dn = m.qk_nope_head_dim, Dr = m.qk_rope_head_dim, Dv = m.v_head_dim, Dqk = Dn + Dr;
  constexpr float kLatentEps = 1e-6f;  // transformers builds both latent norms with the default eps
  if (m.q_lora_rank > 0) {
    ActMatrix qa;
    linear(x, lw.q_a, lw.q_a_bias, qa);  // [T, Rq]
    moescope::rms_norm_inplace(qa, lw.q_a_norm, kLatentEps);
    linear(qa, lw.q_b, Matrix{}, q);     // [T, H*Dqk]
  } else {
    linear(x, lw.q, Matrix{}, q);        // [T, H*Dqk]
  }
  ActMatrix kva, latent, kv;
  linear(x, lw.kv_a, lw.kv_a_bias, kva);  // [T, Rkv + Dr]
  const Eigen::Index T = x.rows(), R = m.kv_lora_rank;
  moescope::rms_norm(kva.leftCols(R), lw.kv_a_norm, kLatentEps, latent);  // [T, Rkv]
  ActMatrix k_rope = kva.rightCols(Dr);                          // [T, Dr]: one rope key for all heads
  linear(latent, lw.kv_b, Matrix{}, kv);                         // [T, H*(Dn + Dv)]
  rope_apply(q, H, Dqk, Dn, rope, c.rope_pairing);
  rope_apply(k_rope, 1, Dr, 0, rope, c.rope_pairing);
  k.resize(T, Eigen::Index(H) * Dqk);
  v.resize(T, Eigen::Index(H) * Dv);
  for (int h = 0; h < H; ++h) {
    k.middleCols(Eigen::Index(h) * Dqk, Dn) = kv.middleCols(Eigen::Index(h) * (Dn + Dv), Dn);
    k.middleCols(Eigen::Index(h) * Dqk + Dn, Dr) = k_rope;
    v.middleCols(Eigen::Index(h) * Dv, Dv) = kv.middleCols(Eigen::Index(h) * (Dn + Dv) + Dn, Dv);
  }
}

}  // namespace moescope
