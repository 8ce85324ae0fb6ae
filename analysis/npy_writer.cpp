// npy_writer.cpp — .npy output.
#include "analysis/npy_writer.h"

#include <unistd.h>

#include <cstring>

#include "engine/atomic_file.h"
#include "engine/error.h"

namespace moescope {

NpyWriter::NpyWriter(const std::string& path, const std::string& descr, std::vector<int64_t> shape, size_t elem)
    : path_(path), tmp_(temp_path_for(path)), elem_(elem) {
  expected_ = 1;
  std::string dims;  // as NumPy writes it: (n,) for 1-D, (a, b) otherwise
  for (size_t i = 0; i < shape.size(); ++i) {
    expected_ *= uint64_t(shape[i]);
    dims += (i ? ", " : "") + std::to_string(shape[i]);
  }
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail(path_, std::string("cannot create (") + std::strerror(errno) + ")");
  const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, uint8_t(header.size() & 0xff), uint8_t(header.size() >> 8)};
  if (std::fwrite(pre, 1, 10, f_) != 10 || std::fwrite(header.data(), 1, header.size(), f_) != header.size())
    fail(path_, "write failed");
}

NpyWriter::~NpyWriter() {
  if (f_) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

void NpyWriter::append(const void* data, size_t elements) {
  if (written_ + elements > expected_) fail(path_, "more data than the declared shape holds");
  if (elements && std::fwrite(data, elem_, elements, f_) != elements)
    fail(path_, std::string("write failed (") + std::strerror(errno) + ")");
  written_ += elements;
}

void NpyWriter::finish() {
  if (written_ != expected_)
    fail_expected(path_, "array incomplete", std::to_string(expected_) + " elements", std::to_string(written_));
  const bool flushed = std::fflush(f_) == 0;
  const std::string why = std::strerror(errno);
  std::fclose(f_);
  f_ = nullptr;
  if (!flushed) {
    std::remove(tmp_.c_str());
    fail(path_, "write failed: " + why);
  }
  commit_temp_file(tmp_, path_);
}

void write_npy(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape, const void* data,
               size_t elem) {
  NpyWriter w(path, descr, shape, elem);
  uint64_t n = 1;
  for (int64_t d : shape) n *= uint64_t(d);
  w.append(data, size_t(n));
  w.finish();
}

}  // namespace moescope
