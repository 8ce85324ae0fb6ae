// flops.cpp — FLOP accounting of the forward pass.
#include "engine/flops.h"

namespace moescope {

ForwardFlops forward_flops(const ModelConfig& c, const std::vector<DocumentSpan>& docs) {
  double T = 0, attended_pairs = 0;  // sum over documents of n(n+1)/2 (query, key) pairs
  for (const auto& d : docs) {
    const double n = double(d.size());
    T += n;
    attended_pairs += n * (n + 1) / 2;
  }
  const double D = c.hidden_size, H = c.num_heads, Hkv = c.num_kv_heads, Dh = c.head_dim;
  ForwardFlops f;
  for (const LayerSpec& s : c.layers) {
    f.projections += 2 * T * D * (2 * H * Dh + 2 * Hkv * Dh);
    f.attention += 2 * 2 * attended_pairs * H * Dh;
    if (s.is_moe()) {
      f.router += 2 * T * D * s.num_experts;
      f.experts += 2 * T * double(c.top_k) * 3 * D * c.expert_width;
      f.experts += 2 * T * (3 * D * double(c.shared_width) + (c.shared_gate ? D : 0));
    } else {
      f.experts += 2 * T * 3 * D * c.dense_width;
    }
  }
  f.lm_head = 2 * T * D * c.vocab_size;
  return f;
}

}  // namespace moescope
