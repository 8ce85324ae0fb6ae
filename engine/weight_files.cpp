// weight_files.cpp — which weight files a checkpoint folder has.
#include "engine/weight_files.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/error.h"
#include "engine/json_file.h"

namespace fs = std::filesystem;

namespace moescope {

WeightFiles find_weight_files(const std::string& dir) {
  WeightFiles w;
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (!fs::exists(index_path)) {
    w.complete = fs::exists(fs::path(dir) / "model.safetensors");
    return w;
  }
  w.has_index = true;
  const std::string where = index_path.string();
  const nlohmann::json index = read_json_file(where, "safetensors index (model.safetensors.index.json)");
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(where, "missing object field 'weight_map'");
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) fail_expected(where + ": weight_map." + tensor, "bad shard name", "a file name", brief(shard));
    shards.insert(shard.get<std::string>());
  }
  w.index_tensors = index["weight_map"].size();
  w.index_shards = shards.size();
  if (index.contains("metadata") && index["metadata"].is_object() && index["metadata"].contains("total_size")) {
    const nlohmann::json& t = index["metadata"]["total_size"];
    if (!t.is_number() || t.get<double>() < 0)
      fail_expected(where + ": field 'metadata.total_size'", "wrong type", "a byte count", brief(t));
    w.index_total_size = t.get<double>();
  }
  w.complete = !shards.empty();
  for (const std::string& s : shards)
    if (s.find('/') != std::string::npos || !fs::exists(fs::path(dir) / s)) w.complete = false;
  return w;
}

}  // namespace moescope
