// safetensors.h — a strict, memory-mapped reader of one .safetensors file.
// The header is validated in full on open (JSON, dtypes, shapes, offsets inside the file,
// sizes = shape x dtype, no overlaps or holes); any problem throws moescope::Error naming the
// file, the tensor and what was expected. Tensor data stays in the mapping until read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtype.h"

namespace moescope {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;  // inside the file mapping
  size_t nbytes = 0;
  const std::string* file = nullptr;    // the file it lives in (owned by its SafetensorsFile)

  int64_t numel() const;
  std::string shape_string() const;     // "[128, 2048]"
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);   // maps and validates; throws Error
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  size_t file_size() const { return size_; }

 private:
  std::string path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace moescope
