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

ParamCounts count_params(const ModelConfig& c) {
  const double D = c.hidden_size, V = c.vocab_size, H = c.num_heads, Hkv = c.num_kv_heads, Dh = c.head_dim;
  ParamCounts p;
  p.routed_expert = 3.0 * D * double(c.expert_width);
  double total = V * D + D;                  // embedding, final norm
  if (!c.tie_word_embeddings) total += V * D;  // output head
  for (const LayerSpec& s : c.layers) {
    total += 2 * D;                                            // the two norms
    total += 2 * H * Dh * D + 2 * Hkv * Dh * D;                // q, o; k, v
    if (c.qkv_bias) total += H * Dh + 2 * Hkv * Dh;
    if (c.o_bias) total += D;
    if (c.qk_norm == QkNorm::Full) total += H * Dh + Hkv * Dh;
    if (c.qk_norm == QkNorm::PerHead) total += 2 * Dh;
    if (!s.is_moe()) {
      total += 3 * D * double(c.dense_width);
      if (c.dense_mlp_bias) total += 2 * double(c.dense_width) + D;
      continue;
    }
    total += double(s.num_experts) * D;                        // router
    total += double(s.num_experts) * p.routed_expert;
    total += 3 * D * double(c.shared_width) + (c.shared_gate ? D : 0);
  }
  p.total = total;
  p.active = total - inactive_params(c);
  return p;
}

}  // namespace moescope
