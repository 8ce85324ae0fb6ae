// synthetic_checkpoint.h — writes an EMO-shaped checkpoint folder with deterministic
// pseudo-random weights, for memory and speed benchmarks at real expert counts without a
// download: config.json (model_type emo), safetensors shards + model.safetensors.index.json,
// and a copied tokenizer.json whose vocabulary sizes the embedding. Shards are streamed one
// tensor at a time (the generator needs megabytes, not the checkpoint's size) and the folder
// appears whole or not at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/checkpoint/dtype.h"

namespace moescope {

struct SyntheticCheckpointSpec {
  int layers = 16;
  int experts = 128;        // per layer, the shared experts included (EMO: 127 routed + 1 shared)
  int shared_experts = 1;   // the last `shared_experts` ids, always active (emo-reference.md §1.4 B)
  int top_k = 8;            // experts per token, shared included (EMO: 7 routed + 1 shared)
  int hidden = 640;         // D
  int intermediate = 320;   // I, the expert width (EMO: D / 2)
  int heads = 10;           // H = Hkv; head_dim = D / H
  int context = 4096;       // max_position_embeddings
  DType dtype = DType::BF16;
  uint64_t seed = 0;
  uint64_t shard_bytes = uint64_t(512) << 20;  // a new shard starts before a tensor would pass this
  std::string tokenizer;    // tokenizer.json to copy (required)
};

struct SyntheticCheckpointInfo {
  int vocab = 0;            // V, from the tokenizer
  size_t shards = 0;
  uint64_t tensor_bytes = 0;  // all tensor data, as stored
  uint64_t expert_bytes = 0;  // the experts' share of it
};

// Checks the spec (Error naming the field), then writes `dir` (which must not exist).
SyntheticCheckpointInfo write_synthetic_checkpoint(const std::string& dir, const SyntheticCheckpointSpec& spec);

}  // namespace moescope
