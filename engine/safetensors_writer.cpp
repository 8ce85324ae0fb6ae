// safetensors_writer.cpp — serialising tensors to safetensors with an atomic rename.
#include "engine/safetensors_writer.h"

#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace moescope {

namespace {

// A file written under a temporary name beside its destination: commit() fsyncs it and renames it
// into place; destroyed without commit() (an error, an exception) it removes the temporary file.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path) : path_(path), tmp_(path + ".tmp-" + std::to_string(::getpid())) {
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(path_, std::string("cannot create temporary file: ") + std::strerror(errno));
  }
  ~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n) {
    const auto* p = static_cast<const char*>(data);
    size_t done = 0;
    while (done < n) {
      const ssize_t k = ::write(fd_, p + done, n - done);
      if (k < 0) {
        if (errno == EINTR) continue;
        fail(path_, std::string("write failed: ") + std::strerror(errno));
      }
      done += size_t(k);
    }
  }

  void commit() {
    const bool synced = ::fsync(fd_) == 0;
    const int sync_errno = errno;
    const bool closed = ::close(fd_) == 0;
    const int close_errno = errno;
    fd_ = -1;
    if (!synced || !closed) fail(path_, std::string("cannot flush to disk: ") + std::strerror(synced ? close_errno : sync_errno));
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
      fail(path_, std::string("cannot move the finished file into place: ") + std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// The 8-byte length and the JSON header (padded so tensor data starts 8-byte aligned).
std::string header_bytes(const std::string& path, const std::vector<TensorLayout>& layouts,
                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& t : layouts) {
    if (t.name == "__metadata__" || header.contains(t.name))
      fail(path + ": tensor '" + t.name + "'", "name is reserved or used twice");
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // keep tensor data 8-byte aligned
  std::string out;
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
  return out + h;
}

}  // namespace

size_t TensorLayout::nbytes() const {
  size_t numel = 1;
  for (int64_t d : shape) numel *= size_t(d);
  return numel * dtype_size(dtype);
}

void write_file_atomically(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.write(content.data(), content.size());
  f.commit();
}

void write_safetensors_streamed(const std::string& path, const std::vector<TensorLayout>& layouts,
                                const std::function<void(size_t index, unsigned char* dst)>& fill,
                                const std::map<std::string, std::string>& metadata) {
  const std::string header = header_bytes(path, layouts, metadata);
  AtomicFile f(path);
  f.write(header.data(), header.size());
  std::vector<unsigned char> buf;
  for (size_t i = 0; i < layouts.size(); ++i) {
    buf.resize(layouts[i].nbytes());
    fill(i, buf.data());
    f.write(buf.data(), buf.size());
  }
  f.commit();
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorLayout> layouts;
  for (const auto& t : tensors) {
    layouts.push_back({t.name, t.dtype, t.shape});
    if (layouts.back().nbytes() != t.bytes.size())
      fail(path + ": tensor '" + t.name + "'", "byte count does not match its shape and dtype");
  }
  write_safetensors_streamed(
      path, layouts, [&](size_t i, unsigned char* dst) { std::memcpy(dst, tensors[i].bytes.data(), tensors[i].bytes.size()); },
      metadata);
}

TensorToWrite tensor_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
  TensorToWrite t{name, DType::F32, std::move(shape), {}};
  t.bytes.resize(values.size() * 4);
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

TensorToWrite tensor_bf16(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
  TensorToWrite t{name, DType::BF16, std::move(shape), {}};
  t.bytes.resize(values.size() * 2);
  for (size_t i = 0; i < values.size(); ++i) {
    uint16_t b = f32_to_bf16(values[i]);
    std::memcpy(t.bytes.data() + 2 * i, &b, 2);
  }
  return t;
}

}  // namespace moescope

namespace moescope {

void write_folder_atomically(const std::string& dir, const std::function<void(const std::string& tmp)>& fill) {
  namespace fs = std::filesystem;
  if (fs::exists(dir)) fail(dir, "already exists (choose a new folder; nothing is overwritten)");
  const fs::path final_dir = fs::absolute(dir).lexically_normal();
  const fs::path tmp = final_dir.parent_path() / (final_dir.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    fill(tmp.string());
    if (fs::exists(final_dir)) fail(dir, "appeared while writing (nothing overwritten)");
    fs::rename(tmp, final_dir);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace moescope
