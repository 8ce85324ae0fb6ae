// safetensors.cpp — header parsing and validation of .safetensors files over an mmap.
#include "engine/checkpoint/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {

// Header sizes above this are rejected before allocating (the reference library uses 100 MB).
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

std::string at_tensor(const std::string& path, const std::string& name) {
  return path + ": tensor '" + name + "'";
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path, "not a regular file");
  }
  size_ = size_t(st.st_size);
  if (size_ < 8) {
    ::close(fd_);
    fail_expected(path, "file too short for a safetensors header", "at least 8 bytes",
                  std::to_string(size_) + " bytes");
  }
  map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    ::close(fd_);
    fail(path, std::string("cannot mmap: ") + std::strerror(errno));
  }
  // Reads through fd_ fetch exactly the bytes asked for: the kernel's read-ahead (megabytes on
  // some disks) would otherwise pull in neighbouring tensors, e.g. experts a subset drops.
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_RANDOM);
  const auto* base = static_cast<const unsigned char*>(map_);

  try {
    unsigned char len_bytes[8];
    read_data(base, 8, len_bytes);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
    if (header_len > kMaxHeaderBytes)
      fail_expected(path, "header length at offset 0 is implausible", "at most 100 MiB",
                    std::to_string(header_len) + " bytes");
    if (header_len > size_ - 8)
      fail_expected(path, "header runs past the end of the file (truncated?)",
                    "header of " + std::to_string(header_len) + " bytes",
                    std::to_string(size_ - 8) + " bytes after the length field");
    // Through pread, not the mapping: a page fault there reads around it, tensor data included.
    std::string header_text(size_t(header_len), '\0');
    read_data(base + 8, header_text.size(), header_text.data());
    const char* hdr = header_text.data();
    const nlohmann::json j = parse_json(hdr, hdr + header_len, path + ": header");
    if (!j.is_object()) fail_expected(path, "header", "a JSON object", brief(j));

    const size_t data_start = 8 + size_t(header_len);
    const size_t data_len = size_ - data_start;
    struct Span { size_t begin, end; const std::string* name; };
    std::vector<Span> spans;

    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& name = it.key();
      const auto& v = it.value();
      if (name == "__metadata__") {
        if (!v.is_object()) fail_expected(path + ": __metadata__", "bad metadata", "an object", brief(v));
        for (auto m = v.begin(); m != v.end(); ++m) {
          if (!m.value().is_string())
            fail_expected(path + ": __metadata__." + m.key(), "bad metadata value", "a string", brief(m.value()));
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string where = at_tensor(path, name);
      if (!v.is_object()) fail_expected(where, "bad entry", "an object", brief(v));
      if (!v.contains("dtype") || !v["dtype"].is_string()) fail(where, "missing string field 'dtype'");
      if (!v.contains("shape") || !v["shape"].is_array()) fail(where, "missing array field 'shape'");
      if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
        fail(where, "missing field 'data_offsets' ([begin, end])");

      TensorInfo t;
      t.name = name;
      const std::string dname = v["dtype"].get<std::string>();
      auto dt = dtype_from_name(dname);
      if (!dt) fail_expected(where, "unknown dtype", "F32, BF16, F16, F64, I64, I32, I16, I8, U8 or BOOL", "'" + dname + "'");
      t.dtype = *dt;
      uint64_t numel = 1;
      for (const auto& d : v["shape"]) {
        // Dimensions are kept as int64_t; past 2^63 - 1 only a 0 elsewhere in the shape lets them through.
        if ((!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0)) ||
            d.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
          fail_expected(where, "bad shape entry", "an integer in [0, 2^63 - 1]", brief(d));
        uint64_t dim = d.get<uint64_t>();
        if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim / 8)
          fail(where, "shape " + brief(v["shape"]) + " overflows");
        numel *= dim;
        t.shape.push_back(int64_t(dim));
      }
      const auto& off = v["data_offsets"];
      if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        fail_expected(where, "bad data_offsets", "two non-negative integers", brief(off));
      uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
      if (b > e) fail_expected(where, "data_offsets are reversed", "begin <= end", brief(off));
      if (e > data_len)
        fail_expected(where, "data runs past the end of the file (truncated?)",
                      "end offset <= " + std::to_string(data_len), std::to_string(e));
      const uint64_t expect_bytes = numel * dtype_size(t.dtype);
      if (e - b != expect_bytes)
        fail_expected(where, "byte size does not match shape " + t.shape_string() + " x " + dname,
                      std::to_string(expect_bytes) + " bytes", std::to_string(e - b) + " bytes");
      t.data = base + data_start + b;
      t.nbytes = size_t(e - b);
      t.file = &path_;
      t.source = this;
      auto [pos, inserted] = tensors_.emplace(name, std::move(t));
      spans.push_back({size_t(b), size_t(e), &pos->first});
    }

    // The byte buffer must be covered exactly: no overlaps, no holes, nothing after the last tensor.
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    size_t cursor = 0;
    for (const Span& s : spans) {
      if (s.begin < cursor)
        fail_expected(at_tensor(path, *s.name), "data overlaps the previous tensor",
                      "begin >= " + std::to_string(cursor), std::to_string(s.begin));
      if (s.begin > cursor)
        fail_expected(at_tensor(path, *s.name), "hole in the data buffer before this tensor",
                      "begin = " + std::to_string(cursor), std::to_string(s.begin));
      cursor = s.end;
    }
    if (cursor != data_len)
      fail_expected(path, "data buffer size does not match the tensors in the header",
                    std::to_string(cursor) + " bytes", std::to_string(data_len) + " bytes");
  } catch (...) {
    ::munmap(map_, size_);
    map_ = nullptr;
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void SafetensorsFile::prefetch(const unsigned char* at, size_t n) const {
  const auto* base = static_cast<const unsigned char*>(map_);
  if (at < base || size_t(at - base) > size_ || n > size_ - size_t(at - base) || n == 0) return;
  ::posix_fadvise(fd_, off_t(at - base), off_t(n), POSIX_FADV_WILLNEED);  // a hint: failure is harmless
}

void SafetensorsFile::read_data(const unsigned char* at, size_t n, void* dst) const {
  const auto* base = static_cast<const unsigned char*>(map_);
  if (at < base || size_t(at - base) > size_) fail(path_, "internal error: read_data asked for bytes outside the file");
  read_at(size_t(at - base), n, dst);
}

void SafetensorsFile::read_at(size_t offset, size_t n, void* dst) const {
  if (offset > size_ || n > size_ - offset) fail(path_, "internal error: a read outside the file");
  auto* out = static_cast<char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t k = ::pread(fd_, out + done, n - done, off_t(offset + done));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) fail(path_ + ": byte offset " + std::to_string(offset + done), std::string("read failed: ") + std::strerror(errno));
    if (k == 0)
      fail_expected(path_ + ": byte offset " + std::to_string(offset + done), "file ended early (changed since it was opened?)",
                    std::to_string(size_) + " bytes", "end of file");
    done += size_t(k);
  }
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace moescope
