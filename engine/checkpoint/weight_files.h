// weight_files.h — what a checkpoint folder holds of its weights, without opening them: a single
// model.safetensors, or an index with all, some or none of its shards (a model card's folder often
// has config.json and the index only).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>

namespace moescope {

struct WeightFiles {
  bool complete = false;        // every weight file is here (Checkpoint can open them)
  bool has_index = false;       // model.safetensors.index.json is here
  double index_total_size = 0;  // the index's metadata.total_size (bytes of all tensors), 0 if absent
  size_t index_tensors = 0;     // entries of the index's weight_map
  size_t index_shards = 0;      // distinct shard files it names
};

// model.safetensors.index.json, validated: every shard a plain file name inside the folder.
struct SafetensorsIndex {
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name
  std::set<std::string> shards;
  double total_size = 0;                          // metadata.total_size (bytes), 0 if absent
};

// Throws Error naming the file and the field (weight_map.TENSOR, metadata.total_size).
SafetensorsIndex read_safetensors_index(const std::string& path);

// Reads DIR/model.safetensors.index.json when present (throws Error naming the file and field
// when it is malformed); never reads tensor data.
WeightFiles find_weight_files(const std::string& dir);

}  // namespace moescope
