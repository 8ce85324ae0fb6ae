// safetensors_writer.cpp — serialising tensors to safetensors with an atomic rename.
#include "engine/checkpoint/safetensors_writer.h"

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
