// test_pruning_provenance.cpp — a pruned checkpoint's pruning_metadata.json read back: the line
// `info` and the Model view show, and the pruned -> original expert ids, for moescope's own files
// (every kept id listed, original sizes recorded) and EMO's (standard ids only, sizes from the
// original config when it is readable).
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/checkpoint/pruning_provenance.h"
#include "engine/error.h"
#include "tests/test_paths.h"

using namespace moescope;
using nlohmann::json;

namespace {

// The "pruned" model: emo-shared's config (3 MoE layers of 8 experts, the last one shared).
ModelConfig pruned_config() { return ModelConfig::from_file(test::fixtures_dir() + "/models/emo-shared/config.json"); }

void write(const std::string& path, const json& j) { std::ofstream(path) << j.dump(2); }

std::string error_of(const std::string& dir, const ModelConfig& c) {
  try {
    read_pruning_provenance(dir, c);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("pruning provenance: moescope's metadata names the original model, domain, method and original ids") {
  test::TempDir tmp("provenance");
  const ModelConfig c = pruned_config();
  CHECK_FALSE(read_pruning_provenance(tmp.str(), c));  // no metadata: not a pruned checkpoint
  const json kept = {{0, 2, 3, 5, 8, 9, 11, 15}, nullptr, {1, 2, 3, 4, 5, 6, 7, 15}};
  write(tmp / "pruning_metadata.json", {{"original_model", "/m/emo"}, {"method", "global_mean_prob"},
                                        {"pruning_method", "greedy_layerwise"}, {"domain", "code"},
                                        {"experts_kept_per_layer", kept}, {"original_experts_per_layer", {16, 16, 16}}});
  const auto p = read_pruning_provenance(tmp.str(), c);
  REQUIRE(p);
  CHECK(p->summary(c) == "pruned from /m/emo (domain code, greedy_layerwise): 7 of 15 standard experts per pruned MoE layer");
  CHECK(p->original_id(0, 0) == 0);
  CHECK(p->original_id(0, 4) == 8);
  CHECK(p->original_id(0, 7) == 15);  // the shared expert, last in both numberings
  CHECK(p->original_id(1, 5) == 5);   // a layer that was not pruned keeps its ids
  CHECK(p->original_id(2, 0) == 1);
}

TEST_CASE("pruning provenance: EMO's standard-only lists get the shared expert from the original config") {
  test::TempDir tmp("provenance-emo");
  const ModelConfig c = pruned_config();
  // The original: the same layers with 32 experts (31 standard + 1 shared).
  std::filesystem::create_directories(tmp / "original");
  std::ifstream in(test::fixtures_dir() + "/models/emo-shared/config.json");
  json original = json::parse(in);
  original["num_experts"] = 32;
  write(tmp / "original/config.json", original);
  std::filesystem::create_directories(tmp / "pruned");
  const json standard_only = {{0, 4, 8, 12, 16, 20, 30}, {1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 5, 6}};
  write(tmp / "pruned/pruning_metadata.json", {{"original_model", tmp / "original"}, {"pruning_method", "easy_ep"},
                                               {"task", "mmlu"}, {"prune_keep_k", 7}, {"experts_kept_per_layer", standard_only}});
  const auto p = read_pruning_provenance(tmp / "pruned", c);
  REQUIRE(p);
  CHECK(p->summary(c) == "pruned from " + (tmp / "original") + " (domain mmlu, easy_ep): 7 of 31 standard experts per pruned MoE layer");
  CHECK(p->original_id(0, 6) == 30);
  CHECK(p->original_id(0, 7) == 31);  // shared: the original layer's last expert
  // The original moved away: the shared expert's original id is unknown, and said so.
  std::filesystem::remove_all(tmp / "original");
  const auto moved = read_pruning_provenance(tmp / "pruned", c);
  REQUIRE(moved);
  CHECK(moved->summary(c).find("7 of ? standard experts") != std::string::npos);
  CHECK(moved->original_id(0, 6) == 30);
  CHECK_THROWS_WITH_AS(moved->original_id(0, 7), doctest::Contains("original model's size is unknown"), Error);
}

TEST_CASE("pruning provenance: a metadata file that does not fit the pruned model names the file, field and layer") {
  test::TempDir tmp("provenance-bad");
  const ModelConfig c = pruned_config();
  const std::string f = tmp / "pruning_metadata.json";
  write(f, {{"experts_kept_per_layer", {nullptr, nullptr}}});
  CHECK(error_of(tmp.str(), c).find(f + ": field 'experts_kept_per_layer': wrong length") == 0);
  write(f, {{"experts_kept_per_layer", {{0, 1}, nullptr, nullptr}}});
  CHECK(error_of(tmp.str(), c).find(f + ": field 'experts_kept_per_layer' layer 0: does not match the pruned model (expected 8 ids") == 0);
  write(f, {{"experts_kept_per_layer", {{3, 2, 4, 5, 6, 7, 8, 9}, nullptr, nullptr}}});
  CHECK(error_of(tmp.str(), c).find("layer 0: ids not ascending") != std::string::npos);
  write(f, {{"experts_kept_per_layer", {{0, 1, 2, 3, 4, 5, 6, 40}, nullptr, nullptr}}, {"original_experts_per_layer", {16, 16, 16}}});
  CHECK(error_of(tmp.str(), c).find("layer 0: expert id out of range (expected < 16") != std::string::npos);
  write(f, json::array());
  CHECK(error_of(tmp.str(), c).find(f + ": not an object") == 0);
}
