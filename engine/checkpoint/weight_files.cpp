// weight_files.cpp — which weight files a checkpoint folder has.
#include "engine/checkpoint/weight_files.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/json_file.h"

namespace fs = std::filesystem;

namespace moescope {

SafetensorsIndex read_safetensors_index(const std::string& path) {
  const nlohmann::json index = read_json_file(path, "safetensors index (model.safetensors.index.json)");
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(path, "missing object field 'weight_map'");
  SafetensorsIndex out;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) fail_expected(path + ": weight_map." + tensor, "bad shard name", "a file name", brief(shard));
    const std::string name = shard.get<std::string>();
    if (name.find('/') != std::string::npos || name == ".." || name.empty())
      fail_expected(path + ": weight_map." + tensor, "bad shard name", "a file name inside the folder", name);
    out.weight_map[tensor] = name;
    out.shards.insert(name);
  }
  if (index.contains("metadata") && index["metadata"].is_object() && index["metadata"].contains("total_size")) {
    const nlohmann::json& t = index["metadata"]["total_size"];
    if (!t.is_number() || t.get<double>() < 0)
      fail_expected(path + ": field 'metadata.total_size'", "wrong type", "a byte count", brief(t));
    out.total_size = t.get<double>();
  }
  return out;
}

WeightFiles find_weight_files(const std::string& dir) {
  WeightFiles w;
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    w.complete = fs::exists(fs::path(dir) / "model.safetensors");
    return w;
  }
  const SafetensorsIndex index = read_safetensors_index(index_path.string());
  w.has_index = true;
  w.index_total_size = index.total_size;
  w.index_tensors = index.weight_map.size();
  w.index_shards = index.shards.size();
  w.complete = !index.shards.empty();
  for (const std::string& s : index.shards) w.complete = w.complete && fs::exists(fs::path(dir) / s);
  return w;
}

}  // namespace moescope
