// device_pass_plan.cpp — scratch planning of a device forward pass (device_pass_plan.h).
#include "kernels/plan/device_pass_plan.h"

#include <algorithm>

#include "engine/error.h"

namespace moescope {

int64_t widest_activation(const ModelConfig& c) {
  int64_t w = c.hidden_size;
  const int64_t qk = c.mla.enabled ? c.mla.qk_head_dim() : c.head_dim;
  const int64_t v = c.mla.enabled ? c.mla.v_head_dim : c.head_dim;
  w = std::max<int64_t>(w, int64_t(c.num_heads) * std::max(qk, v));
  if (c.mla.enabled) {
    w = std::max<int64_t>(w, int64_t(c.mla.kv_lora_rank) + c.mla.qk_rope_head_dim);
    w = std::max<int64_t>(w, int64_t(c.num_heads) * (c.mla.qk_nope_head_dim + c.mla.v_head_dim));
    w = std::max<int64_t>(w, c.mla.q_lora_rank);
  }
  w = std::max<int64_t>(w, 2 * int64_t(std::max({c.expert_width, c.shared_width, c.dense_width})));
  return w;
}

DevicePassPlan plan_device_pass(const ModelConfig& c, int64_t tokens, uint64_t budget) {
  DevicePassPlan p;
  p.tokens = tokens;
  const int64_t D = c.hidden_size, W = widest_activation(c), K = std::max(1, c.top_k);
  int E = 0;
  for (const LayerSpec& s : c.layers) E = std::max(E, s.num_experts);
  // Pass buffers, FP32 unless said: x, h, o, y and the shared MLP's output [T, D]; q, k, v,
  // attention out [T, W] each; MLA's q latent, kv latent (+ rope key), normed latent and kv up
  // projection; the BF16 copy of a GEMM input [T, W]; router logits [T, E]; ids, next ids,
  // document starts, positions [T].
  int64_t mla = 0;
  if (c.mla.enabled)
    mla = c.mla.q_lora_rank + (c.mla.kv_lora_rank + c.mla.qk_rope_head_dim) + c.mla.kv_lora_rank +
          int64_t(c.num_heads) * (c.mla.qk_nope_head_dim + c.mla.v_head_dim);
  p.activation_bytes = uint64_t(tokens) * uint64_t(5 * 4 * D + 4 * 4 * W + 4 * mla + 2 * W + 4 * E + 16);
  // One expert round of n tokens: the slots' inputs in expert order (BF16 [n*K, D]), the gate/up
  // output (FP32 [n*K, 2I]), the SwiGLU product (BF16 [n*K, I]), the expert outputs (FP32 [n*K, D]),
  // the routing (ids, weights, row of slot, slot of row: 16 bytes per slot).
  const int64_t I = std::max({c.expert_width, c.shared_width, c.dense_width, 1});
  const uint64_t per_token = uint64_t(K) * uint64_t(2 * D + 4 * 2 * I + 2 * I + 4 * D + 16);
  p.expert_chunk_tokens = std::clamp<int64_t>(int64_t(budget / per_token), 1, std::max<int64_t>(1, tokens));
  p.expert_bytes = uint64_t(p.expert_chunk_tokens) * per_token;
  // Head tiles [n, Vb] FP32 with n up to 4096 rows and Vb a multiple of 64, plus the BF16 rows.
  const int64_t V = std::max(1, c.vocab_size);
  p.head_chunk_tokens = std::clamp<int64_t>(tokens, 1, 4096);
  const int64_t vb = int64_t(budget / (4 * uint64_t(p.head_chunk_tokens))) / 64 * 64;
  p.head_vocab_block = std::clamp<int64_t>(vb, 64, (V + 63) / 64 * 64);
  p.head_bytes = uint64_t(p.head_chunk_tokens) * uint64_t(4 * p.head_vocab_block + 2 * D + 16);
  return p;
}

DeviceMemoryEstimate estimate_device_memory(const ModelConfig& c, const MemoryEstimate& host, int64_t tokens) {
  DeviceMemoryEstimate e;
  e.weights = host.weights;
  e.pass = plan_device_pass(c, tokens, kDeviceScratchBudget);
  e.reserve = uint64_t(1) << 30;
  return e;
}

void check_device_memory_fits(const std::string& dir, const std::string& device, const DeviceMemoryEstimate& e,
                              uint64_t device_bytes) {
  if (e.total() <= device_bytes) return;
  fail(dir, "will not fit on " + device + ": it needs about " + gib(e.total()) + " (weights " + gib(e.weights) +
                " + a pass of " + std::to_string(e.pass.tokens) + " tokens " + gib(e.pass.total()) + " + reserve " +
                gib(e.reserve) + ") but the device has " + gib(device_bytes) +
                ". Load fewer experts with --keep SUBSET.json, or run on the CPU (--device cpu)");
}

}  // namespace moescope
