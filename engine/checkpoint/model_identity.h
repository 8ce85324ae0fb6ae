// model_identity.h — what identifies a checkpoint: two workspace runs (or a trace and a later
// ablation) mix only when both hashes agree. Read through the checkpoint's own files (headers
// and 16 small windows of each), never the weights themselves.
#pragma once

#include <string>

#include "engine/checkpoint/checkpoint.h"

namespace moescope {

struct ModelIdentity {
  std::string path;          // the folder, absolute
  std::string config_hash;   // of config.json's bytes
  std::string weights_hash;  // of every safetensors header plus sampled tensor bytes
};

// The identity of an opened checkpoint (a loaded model's: Model::checkpoint()).
ModelIdentity identify_model(const Checkpoint& ckpt);
// Opens DIR's checkpoint (headers only) and identifies it. Throws Error.
ModelIdentity identify_model(const std::string& dir);

// The 64-bit FNV-1a fingerprint of some bytes as 16 hex digits (not a security hash); workspaces
// fingerprint document texts with it too.
std::string fingerprint(const std::string& bytes);

}  // namespace moescope
