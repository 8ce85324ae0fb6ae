// device_pass_plan.h — how one forward pass is cut to fit a device's scratch memory, and what a
// model needs on the device in all. Pure C++ (tested on the CPU); the CUDA backend follows it.
// A pass of T tokens keeps a handful of [T, widest] FP32 activations for the whole pass; the MoE
// layer's grouped GEMMs run over chunks of tokens (their [chunk*K, 2I] intermediate is the
// largest buffer), and the output head over [rows, vocabulary block] logit tiles.
// Shape legend: T tokens, D hidden, K experts per token, I expert width, V vocabulary.
#pragma once

#include <cstdint>
#include <string>

#include "engine/config.h"
#include "engine/memory_estimate.h"

namespace moescope {

// Tokens of the largest pass the programs send (their batches are about 16k tokens): what the
// device-memory check and `info` plan for.
constexpr int64_t kPlannedPassTokens = 16384;
// Bytes one expert round or one output-head tile may take: rounds of ~8.7k tokens for the
// EMO-1B14B shape, so each of 128 experts gets ~550 rows per GEMM.
constexpr uint64_t kDeviceScratchBudget = uint64_t(2) << 30;

struct DevicePassPlan {
  int64_t tokens = 0;               // T of the pass
  int64_t expert_chunk_tokens = 0;  // tokens per grouped-GEMM round of an MoE layer
  int64_t head_chunk_tokens = 0;    // rows per output-head tile
  int64_t head_vocab_block = 0;     // vocabulary entries per output-head tile
  uint64_t activation_bytes = 0;    // the pass's [T, *] buffers
  uint64_t expert_bytes = 0;        // one expert round's buffers
  uint64_t head_bytes = 0;          // one head tile's buffers
  uint64_t total() const { return activation_bytes + expert_bytes + head_bytes; }
};

// The widest per-token activation of the model (q, k, v, attention output, MLP intermediate).
int64_t widest_activation(const ModelConfig& c);

// Plans a pass of `tokens` tokens whose expert round and head tile each stay within `scratch_budget`
// bytes (at least one token per round and 64 vocabulary entries per tile, whatever the budget).
DevicePassPlan plan_device_pass(const ModelConfig& c, int64_t tokens, uint64_t scratch_budget);

// What a model needs on the device: weights as uploaded (BF16 GEMM weights, kept experts only,
// FP32 vectors and routers; `host_estimate` counted with the plan that keeps weights as stored,
// exact for BF16/F16 checkpoints and an upper bound for F32 ones), plus a pass of `tokens` tokens.
struct DeviceMemoryEstimate {
  uint64_t weights = 0;
  DevicePassPlan pass;
  uint64_t reserve = 0;  // the CUDA context, cuBLAS workspaces and allocator slack
  uint64_t total() const { return weights + pass.total() + reserve; }
};
DeviceMemoryEstimate estimate_device_memory(const ModelConfig& c, const MemoryEstimate& host_estimate, int64_t tokens);

// Throws Error naming `dir` and `device` when the estimate exceeds `device_bytes`, with both
// numbers and the ways out (a subset with --keep, fewer tokens per batch).
void check_device_memory_fits(const std::string& dir, const std::string& device, const DeviceMemoryEstimate& e,
                              uint64_t device_bytes);

}  // namespace moescope
