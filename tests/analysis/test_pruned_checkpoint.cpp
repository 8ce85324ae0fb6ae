// test_pruned_checkpoint.cpp — an exported pruned checkpoint routes and predicts exactly like the
// full model with the same subset mask (same weights: both sides BF16), with experts renumbered.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "analysis/pruned_checkpoint.h"
#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/model.h"
#include "tests/test_paths.h"

using namespace moescope;
namespace fs = std::filesystem;

namespace {

std::vector<int32_t> fixture_ids(const std::string& dir) {
  const nlohmann::json e = read_json_file(dir + "/expected.json", "fixture");
  return e["documents"][0]["ids"].get<std::vector<int32_t>>();
}

void check_pruned_equals_masked(const std::string& fixture, const nlohmann::json& keep) {
  test::TempDir tmp("pruned-" + fixture);
  const std::string src = test::fixtures_dir() + "/models/" + fixture;
  const ModelConfig c = ModelConfig::from_file(src + "/config.json");
  // 1. The whole model in BF16 (an export keeping everything), so both sides share weights.
  write_pruned_checkpoint(src, ExpertSubset::all(c), tmp / "full", {});
  // 2. The subset, exported from that BF16 copy.
  const ModelConfig cf = ModelConfig::from_file(tmp / "full/config.json");
  const ExpertSubset subset = ExpertSubset::from_json_text(nlohmann::json{{"experts_kept_per_layer", keep}}.dump(), "keep", cf);
  const PrunedCheckpointInfo info = write_pruned_checkpoint(tmp / "full", subset, tmp / "pruned", {{"method", "test"}});
  CHECK_FALSE(fs::exists(tmp / "pruned.partial-" + std::to_string(::getpid())));

  const auto full = Model::load(tmp / "full");
  const auto pruned = Model::load(tmp / "pruned");
  const auto ids = fixture_ids(src);
  ForwardOptions masked;
  masked.mask = &subset;
  const ForwardResult a = full->forward({ids}, masked);
  const ForwardResult b = pruned->forward({ids}, ForwardOptions{});
  REQUIRE(a.layers.size() == b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const auto& kept = info.kept_per_layer[size_t(a.layers[l].layer)];
    REQUIRE(a.layers[l].topk_ids.size() == b.layers[l].topk_ids.size());
    for (size_t i = 0; i < a.layers[l].topk_ids.size(); ++i) {
      CHECK(a.layers[l].topk_ids[i] == kept[size_t(b.layers[l].topk_ids[i])]);  // new id -> original id
      CHECK(a.layers[l].topk_weights[i] == doctest::Approx(b.layers[l].topk_weights[i]).epsilon(1e-5));
    }
  }
  for (size_t t = 0; t + 1 < ids.size(); ++t) CHECK(a.nll[t] == doctest::Approx(b.nll[t]).epsilon(1e-5));
  const nlohmann::json meta = read_json_file(tmp / "pruned/pruning_metadata.json", "metadata");
  CHECK(meta["method"] == "test");
  CHECK(meta["experts_kept_per_layer"].size() == size_t(c.num_layers));
  // No overwrite: the same destination again is refused, the existing folder untouched.
  try {
    write_pruned_checkpoint(tmp / "full", subset, tmp / "pruned", {});
    FAIL("an existing folder was overwritten");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("already exists") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("pruned checkpoint: shared expert, BF16, GQA (uniform keep)") {
  check_pruned_equals_masked("emo-shared-bf16-gqa", nlohmann::json::array({{1, 3, 4}, {0, 2, 3}}));
}

TEST_CASE("pruned checkpoint: dense layer and per-layer expert counts (non-uniform keep)") {
  check_pruned_equals_masked("emo-per-layer", nlohmann::json::array({nullptr, {0, 2, 4}, {1, 2, 5, 6}}));
}

TEST_CASE("pruned checkpoint: always-active experts are kept and renumbered") {
  check_pruned_equals_masked("emo-always-active", nlohmann::json::array({{1, 5}, {2, 4, 7}}));
  // the renumbered always-active ids
  test::TempDir tmp("pruned-aa-config");
  const std::string src = test::fixtures_dir() + "/models/emo-always-active";
  const ModelConfig c = ModelConfig::from_file(src + "/config.json");
  const ExpertSubset s = ExpertSubset::from_json_text(R"({"experts_kept_per_layer": [[1, 5], [2, 4, 7]]})", "keep", c);
  write_pruned_checkpoint(src, s, tmp / "p", {});
  const nlohmann::json cfg = read_json_file(tmp / "p/config.json", "config");
  CHECK(cfg["always_active_experts_per_layer"] == nlohmann::json::array({{0, 2}, {2}}));  // {0,1,3,5} and {2,4,6,7}
  CHECK(cfg["num_experts"] == 4);
}
