// expected_memory.h — what a model should hold in memory, counted from the checkpoint's headers
// alone (independently of the loader): the memory benchmarks compare resident memory with it.
#pragma once

#include <cstdint>

#include "engine/checkpoint.h"
#include "engine/config.h"
#include "engine/subset.h"

namespace moescope {

struct ExpectedMemory {
  uint64_t shared_f32 = 0;   // everything but experts (embeddings, attention, norms, routers, head) as FP32
  uint64_t experts_f32 = 0;  // the experts `subset` keeps (shared ones included) as FP32
  int experts_kept = 0;      // over all MoE layers
  // --precision bf16 adds BF16 copies of the GEMM weights (attention projections, kept experts,
  // dense MLPs, output head; not the router): 2 bytes per element, before any kernel padding.
  uint64_t bf16_copies = 0;
  // FP32 mode on AMX machines adds BF16x3 splits of the same weights (engine/gemm_amx.h): one BF16
  // part per element for BF16 checkpoints, three for FP32/F16 ones (their values may happen to be
  // exact in BF16, when the engine keeps one: this is then an upper bound); before padding to 32.
  uint64_t amx_copies = 0;
  uint64_t f32() const { return shared_f32 + experts_f32; }
};

// Per-expert tensors (`mlp.experts.E.*`) and fused ones ([E, ...], split evenly) are both counted.
ExpectedMemory expected_memory(const Checkpoint& ckpt, const ModelConfig& config, const ExpertSubset& subset);

}  // namespace moescope
