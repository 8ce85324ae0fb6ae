// safetensors.h — a strict, memory-mapped reader of one .safetensors file.
// The header is validated in full on open (JSON, dtypes, shapes, offsets inside the file,
// sizes = shape x dtype, no overlaps or holes); any problem throws moescope::Error naming the
// file, the tensor and what was expected. Tensor data stays in the mapping until read; the
// header is read with pread, so opening a file touches none of its tensor pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/checkpoint/dtype.h"

namespace moescope {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const unsigned char* data = nullptr;  // inside the file mapping
  size_t nbytes = 0;
  const std::string* file = nullptr;    // the file it lives in (owned by its SafetensorsFile)
  const class SafetensorsFile* source = nullptr;  // the file object, for read_data

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
  // Copies n bytes starting at `at` (a pointer into this file's mapping, e.g. inside
  // TensorInfo::data) to dst with pread: exactly those pages are read from disk (no read-ahead
  // around them) and the mapping is not touched, so nothing of it counts as this process's
  // resident memory. Throws Error naming the file and offset if the file shrank since opening.
  void read_data(const unsigned char* at, size_t n, void* dst) const;
  // The same by byte offset in the file (headers included).
  void read_at(size_t offset, size_t n, void* dst) const;
  // Asks the kernel to fetch the pages of [at, at + n) in the background (POSIX_FADV_WILLNEED
  // on just that range): later read_data calls find them, and tensors used in place from the
  // mapping fault without reading around.
  void prefetch(const unsigned char* at, size_t n) const;

 private:
  std::string path_;
  void* map_ = nullptr;
  int fd_ = -1;  // kept open for read_data; advised POSIX_FADV_RANDOM
  size_t size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace moescope
