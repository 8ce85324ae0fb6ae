// checkpoint.cpp — opening single-file and sharded safetensors checkpoints.
#include "engine/checkpoint/checkpoint.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/checkpoint/weight_files.h"

namespace fs = std::filesystem;

namespace moescope {

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
  if (!fs::is_directory(dir)) fail(dir, "not a directory (expected a Hugging Face checkpoint folder)");
  const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
  const std::string single_path = (fs::path(dir) / "model.safetensors").string();

  if (fs::exists(index_path)) {
    const SafetensorsIndex index = read_safetensors_index(index_path);
    std::map<std::string, SafetensorsFile*> shard_by_file;
    for (const std::string& shard : index.shards) {
      const std::string shard_path = (fs::path(dir) / shard).string();
      if (!fs::exists(shard_path)) fail(index_path, "shard '" + shard + "' listed in weight_map does not exist");
      files_.push_back(std::make_unique<SafetensorsFile>(shard_path));
      shard_by_file[shard] = files_.back().get();
    }
    const std::map<std::string, std::string>& wanted = index.weight_map;  // tensor -> shard file
    for (const auto& [name, shard] : wanted) {
      const TensorInfo* t = shard_by_file[shard]->find(name);
      if (!t) fail(index_path, "tensor '" + name + "' is mapped to shard '" + shard + "' but that shard does not hold it");
      by_name_[name] = t;
    }
    // Tensors present in a shard but not in the index are still usable; index wins on conflicts.
    for (const auto& f : files_)
      for (const auto& [name, t] : f->tensors()) by_name_.emplace(name, &t);
  } else if (fs::exists(single_path)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single_path));
    for (const auto& [name, t] : files_.back()->tensors()) by_name_[name] = &t;
  } else {
    fail(dir, "no model.safetensors or model.safetensors.index.json");
  }
}

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const TensorInfo& Checkpoint::get(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t) fail(dir_, "tensor '" + name + "' is missing from the checkpoint");
  return *t;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& kv : by_name_) out.push_back(kv.first);
  return out;
}


}  // namespace moescope
