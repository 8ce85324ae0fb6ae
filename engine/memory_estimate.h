// memory_estimate.h — the bytes a model load will hold, counted from config.json and the
// safetensors headers before any weight is read, and the check against this machine's memory.
// The count follows the loader's own rule for every tensor (gemm_weight_form in weights.h):
// GEMM weights in their form, vectors and routers widened to FP32, the embedding as stored;
// kept experts only. A fixed allowance covers a forward pass's activations and scratch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/subset.h"
#include "engine/weights.h"

namespace moescope {

struct MemoryEstimate {
  uint64_t weights = 0;          // weight bytes held (or mapped) in their forms, kept experts only
  uint64_t experts = 0;          // of `weights`: the kept standard experts
  uint64_t working = 0;          // activations and scratch of a forward pass (an allowance)
  uint64_t per_expert = 0;       // one standard expert in one layer (the largest layer's)
  int moe_layers = 0;
  int max_standard = 0;          // standard experts of the widest MoE layer
  uint64_t total() const { return weights + working; }
};

MemoryEstimate estimate_memory(const Checkpoint& ckpt, const ModelConfig& config, const ExpertSubset& subset,
                               const WeightPlan& plan);

// MemAvailable of /proc/meminfo in bytes; nullopt where it cannot be read.
std::optional<uint64_t> available_memory();

// Standard experts per MoE layer that fit in `available` bytes beside everything else the model
// holds (0 when not even that fits; max_standard when all do).
int experts_per_layer_that_fit(const MemoryEstimate& without_standard_experts, uint64_t available);

// "25.31 GiB".
std::string gib(uint64_t bytes);

// Throws Error naming `dir` when the estimate exceeds `available`: both numbers and the ways out
// (a smaller subset with --keep; --no-memory-check).
void check_memory_fits(const std::string& dir, const MemoryEstimate& estimate, uint64_t available);

}  // namespace moescope
