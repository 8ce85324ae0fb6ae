// safetensors_writer.h — writes a .safetensors file atomically (temp file, fsync, rename), so a
// crash never leaves a half-written file under the final name. Used by exports and tests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/dtype.h"

namespace moescope {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;  // little-endian data, numel x dtype_size bytes
};

// Throws Error naming the path on any I/O failure (the final file is then untouched).
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

TensorToWrite tensor_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);
TensorToWrite tensor_bf16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace moescope
