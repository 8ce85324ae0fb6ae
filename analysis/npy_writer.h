// npy_writer.h — NumPy .npy (format 1.0) files written as a stream: the header carries the final
// shape up front, rows are appended, and the file is renamed into place only when complete.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace moescope {

class NpyWriter {
 public:
  // descr: NumPy dtype string ("<f2", "<i4", "<i8"); shape: final shape; elem: bytes per element.
  NpyWriter(const std::string& path, const std::string& descr, std::vector<int64_t> shape, size_t elem);
  ~NpyWriter();  // without finish(): the temp file is removed
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  void append(const void* data, size_t elements);
  // Checks that exactly prod(shape) elements arrived, flushes, fsyncs and renames. Throws Error.
  void finish();

 private:
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  size_t elem_ = 0;
  uint64_t expected_ = 0, written_ = 0;
};

// Whole array in one call.
void write_npy(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape, const void* data,
               size_t elem);

}  // namespace moescope
