// test_pruned_checkpoint.cpp — an exported pruned checkpoint routes and predicts exactly like the
// full model with the same subset mask (same weights: both sides BF16), with experts renumbered.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "analysis/pruned_checkpoint.h"
#include "engine/checkpoint/checkpoint.h"
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

// A subset keeping fewer experts than top-k in one layer: the export caps num_experts_per_tok at
// the fewest kept experts (one value for every layer, as EMO's config has), and the masked full
// model routes every layer with that same top-k (here 2: layer 2 then routes to its two shared
// experts only, where a per-layer cap would have added two routed ones).
TEST_CASE("pruned checkpoint: a subset with fewer experts than top-k in one layer routes alike everywhere") {
  check_pruned_equals_masked("emo-per-layer", nlohmann::json::array({nullptr, {0}, {0, 1, 2, 3}}));
  const ModelConfig c = ModelConfig::from_file(test::fixtures_dir() + "/models/emo-per-layer/config.json");
  const ExpertSubset s = ExpertSubset::from_json_text(R"({"experts_kept_per_layer": [null, [0], [0, 1, 2, 3]]})", "keep", c);
  CHECK(c.top_k == 4);
  CHECK(s.top_k(c) == 2);  // layer 1 keeps expert 0 and its shared expert 5
  CHECK(ExpertSubset::all(c).top_k(c) == 4);
  const auto full = Model::load(test::fixtures_dir() + "/models/emo-per-layer");
  ForwardOptions masked;
  masked.mask = &s;
  const ForwardResult r = full->forward({fixture_ids(test::fixtures_dir() + "/models/emo-per-layer")}, masked);
  for (const LayerRecord& rec : r.layers) CHECK(rec.k == 2);
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

// Every family's export: Hub tensor names of the family (Mixtral's block_sparse_moe w1/w3/w2,
// Llama 4's input-major banks, DeepSeek's selection bias sliced with the router), the family's
// expert-count key, and equality with the masked full model.
TEST_CASE("pruned checkpoint: every family routes and predicts like its masked full model") {
  using nlohmann::json;
  check_pruned_equals_masked("mixtral-swa-gqa", json::array({{0, 3}, {0, 3}}));
  check_pruned_equals_masked("mixtral-bf16", json::array({{1, 2, 3}, {0, 1, 3}}));
  check_pruned_equals_masked("flex_olmo-postnorm", json::array({{0, 2, 5}, {1, 2, 4}, {0, 1, 3}}));
  check_pruned_equals_masked("qwen2_moe-shared", json::array({{0, 1, 4}, {2, 3, 5}}));
  check_pruned_equals_masked("qwen3_moe-headdim", json::array({{0, 1, 2, 4}, nullptr, {1, 3, 5, 6}}));
  check_pruned_equals_masked("deepseek_v2-lite", json::array({nullptr, {0, 2, 4, 6}, {1, 3, 5, 7}}));
  // Grouped routing: whole groups dropped (group 1 = experts 2, 3), the same groups in every layer.
  check_pruned_equals_masked("deepseek_v2-group", json::array({nullptr, {0, 1, 4, 5, 6, 7}, {0, 1, 4, 5, 6, 7}}));
  check_pruned_equals_masked("deepseek_v3-noaux", json::array({nullptr, {0, 1, 4, 5, 6, 7}, {0, 1, 4, 5, 6, 7}}));
  check_pruned_equals_masked("llama4-chunked", json::array({nullptr, {0, 3}, nullptr, {1, 2}}));
}

TEST_CASE("pruned checkpoint: family config keys and refusals") {
  test::TempDir tmp("pruned-family-keys");
  const std::string models = test::fixtures_dir() + "/models/";
  auto export_keep = [&](const std::string& fixture, const nlohmann::json& keep, const std::string& out) {
    const ModelConfig c = ModelConfig::from_file(models + fixture + "/config.json");
    const ExpertSubset s = ExpertSubset::from_json_text(nlohmann::json{{"experts_kept_per_layer", keep}}.dump(), "keep", c);
    write_pruned_checkpoint(models + fixture, s, tmp / out, {});
    return read_json_file(tmp / (out + "/config.json"), "config");
  };
  nlohmann::json cfg = export_keep("deepseek_v3-noaux", nlohmann::json::array({nullptr, {0, 1, 6, 7}, {0, 1, 6, 7}}), "v3");
  CHECK(cfg["n_routed_experts"] == 4);
  CHECK(cfg["n_group"] == 2);
  CHECK(cfg["topk_group"] == 2);
  CHECK_FALSE(cfg.contains("num_experts"));
  cfg = export_keep("mixtral-swa-gqa", nlohmann::json::array({{0, 3}, {0, 3}}), "mixtral");
  CHECK(cfg["num_local_experts"] == 2);
  CHECK_FALSE(cfg.contains("num_experts"));
  const Checkpoint mixtral(tmp / "mixtral");
  CHECK(mixtral.find("model.layers.1.block_sparse_moe.experts.1.w3.weight") != nullptr);
  CHECK(mixtral.find("model.layers.1.block_sparse_moe.experts.2.w3.weight") == nullptr);
  const Checkpoint v3(tmp / "v3");
  CHECK(v3.get("model.layers.1.mlp.gate.e_score_correction_bias").shape == std::vector<int64_t>{4});

  // Grouped routing cannot survive uneven groups; other families cannot keep different counts per layer.
  auto error_of = [&](const std::string& fixture, const nlohmann::json& keep, const std::string& out) {
    try {
      export_keep(fixture, keep, out);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error_of("deepseek_v2-group", nlohmann::json::array({nullptr, {0, 1, 2, 4, 5, 6}, {0, 1, 2, 4, 5, 6}}), "uneven")
            .find("needs the same number of kept experts in every kept group") != std::string::npos);
  CHECK(error_of("deepseek_v3-noaux", nlohmann::json::array({nullptr, {0, 2, 4, 6}, {0, 2, 4, 6}}), "single")
            .find("keep at least 2 per kept group") != std::string::npos);
  CHECK(error_of("qwen2_moe-shared", nlohmann::json::array({{0, 1, 4}, {2, 3}}), "qwen")
            .find("qwen2_moe configs have one expert count for all layers") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "uneven"));
  CHECK_FALSE(fs::exists(tmp / "qwen"));
}
