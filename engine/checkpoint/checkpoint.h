// checkpoint.h — a Hugging Face checkpoint folder: one model.safetensors or shards listed by
// model.safetensors.index.json, opened (mmap) and validated; tensors looked up by name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/checkpoint/safetensors.h"

namespace moescope {

class Checkpoint {
 public:
  // dir holds model.safetensors or model.safetensors.index.json (+ shards). Throws Error.
  explicit Checkpoint(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const TensorInfo* find(const std::string& name) const;
  // Throws Error "DIR: tensor 'name' is missing" when absent.
  const TensorInfo& get(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> by_name_;
};

}  // namespace moescope
