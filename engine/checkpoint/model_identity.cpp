// model_identity.cpp — FNV-1a fingerprints of a checkpoint's config and files (model_identity.h).
// The bytes hashed are those workspaces have recorded since their first version, so identities
// stay comparable: per file, its name, size, JSON header and 64 bytes at 16 evenly spaced places.
#include "engine/checkpoint/model_identity.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "engine/json_file.h"

namespace fs = std::filesystem;

namespace moescope {

namespace {

// FNV-1a, 64 bit: a fingerprint, not a security hash.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(const std::string& s) { add(s.data(), s.size()); }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

}  // namespace

ModelIdentity identify_model(const Checkpoint& ckpt) {
  ModelIdentity id;
  id.path = fs::absolute(ckpt.dir()).lexically_normal().string();
  Fnv config;
  config.add(read_text_file((fs::path(ckpt.dir()) / "config.json").string(), "model config"));
  id.config_hash = config.hex();
  std::vector<const SafetensorsFile*> files;
  for (const auto& f : ckpt.files()) files.push_back(f.get());
  std::sort(files.begin(), files.end(), [](const SafetensorsFile* a, const SafetensorsFile* b) {
    return fs::path(a->path()).filename() < fs::path(b->path()).filename();
  });
  Fnv f;
  for (const SafetensorsFile* file : files) {
    const uint64_t size = file->file_size();
    f.add(fs::path(file->path()).filename().string());
    f.add(&size, sizeof size);
    uint64_t header_len = 0;  // validated when the file was opened
    file->read_at(0, 8, &header_len);
    std::string header(size_t(header_len), '\0');
    file->read_at(8, header.size(), header.data());
    f.add(header);
    const uint64_t data0 = 8 + header_len;
    for (int i = 0; i < 16 && data0 < size; ++i) {
      const uint64_t at = data0 + (size - data0) * uint64_t(i) / 16;
      char sample[64] = {};
      file->read_at(size_t(at), size_t(std::min<uint64_t>(64, size - at)), sample);
      f.add(sample, sizeof sample);
    }
  }
  id.weights_hash = f.hex();
  return id;
}

ModelIdentity identify_model(const std::string& dir) { return identify_model(Checkpoint(dir)); }

std::string fingerprint(const std::string& bytes) {
  Fnv f;
  f.add(bytes);
  return f.hex();
}

}  // namespace moescope
