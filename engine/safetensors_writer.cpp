// safetensors_writer.cpp — serialising tensors to safetensors (written atomically).
#include "engine/safetensors_writer.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace moescope {

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__" || header.contains(t.name))
      fail(path + ": tensor '" + t.name + "'", "name is reserved or used twice");
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;
    if (size_t(numel) * dtype_size(t.dtype) != t.bytes.size())
      fail(path + ": tensor '" + t.name + "'", "byte count does not match its shape and dtype");
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // keep tensor data 8-byte aligned
  std::string out;
  out.reserve(8 + h.size() + offset);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
  out += h;
  for (const auto& t : tensors) out.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  write_file_atomically(path, out);
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
