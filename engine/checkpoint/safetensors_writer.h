// safetensors_writer.h — writes a .safetensors file atomically (temp file, fsync, rename), so a
// crash never leaves a half-written file under the final name. Used by exports, tests and the
// synthetic checkpoint generator (which streams: one tensor in memory at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/atomic_file.h"
#include "engine/checkpoint/dtype.h"

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

// Name, dtype and shape of a tensor whose bytes are produced while writing.
struct TensorLayout {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  size_t nbytes() const;  // numel x dtype size
};

// Streams tensor i's bytes from fill(i, dst) (dst holds layouts[i].nbytes() bytes) in order, so
// only one tensor is in memory at a time. Same format, atomicity and errors as write_safetensors;
// an exception from fill leaves no file behind.
void write_safetensors_streamed(const std::string& path, const std::vector<TensorLayout>& layouts,
                                const std::function<void(size_t index, unsigned char* dst)>& fill,
                                const std::map<std::string, std::string>& metadata = {});

TensorToWrite tensor_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);
TensorToWrite tensor_bf16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace moescope
