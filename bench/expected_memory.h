// expected_memory.h — what a model should hold in memory, counted from the checkpoint's headers
// alone (independently of the loader and of engine/memory_estimate.h): the memory benchmarks
// compare resident memory with it.
#pragma once

#include <cstdint>

#include "engine/checkpoint/checkpoint.h"
#include "engine/config.h"
#include "engine/subset.h"

namespace moescope {

// The engine's three ways of holding GEMM weights (engine/weights.h).
enum class ExpectedMode { F32, F32Amx, Bf16 };

struct ExpectedMemory {
  uint64_t needed = 0;       // bytes of the tensors the load needs, as stored: shared weights + kept experts
  uint64_t experts = 0;      // of `needed`: the kept experts (shared ones included)
  int experts_kept = 0;      // over all MoE layers
  // What the engine should hold in a mode: GEMM weights (attention projections, experts, MLPs,
  // output head) at 2 bytes per weight when stored in BF16/F16 (F32: 4 bytes, or 6 as the three
  // BF16 parts of the AMX path, an upper bound: values exact in BF16 take one), vectors and
  // routers as FP32, the embedding as stored, and a tied head's own copy where its form differs
  // from the embedding's (AMX and BF16 modes). Before padding to 32.
  uint64_t resident = 0;
};

// Per-expert tensors (`mlp.experts.E.*`) and fused ones ([E, ...], split evenly) are both counted.
ExpectedMemory expected_memory(const Checkpoint& ckpt, const ModelConfig& config, const ExpertSubset& subset, ExpectedMode mode);

}  // namespace moescope
