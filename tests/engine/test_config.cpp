// config.json parsing: EMO per-layer structure resolved as emo-reference.md §1.2/§1.4 says, and
// every bad config names the file and field.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "engine/config.h"
#include "engine/error.h"
#include "tests/test_paths.h"

using namespace moescope;
using nlohmann::json;

namespace {

json emo_base() {
  return json{{"model_type", "emo"}, {"hidden_size", 64}, {"num_hidden_layers", 3}, {"num_attention_heads", 4},
              {"num_key_value_heads", 2}, {"intermediate_size", 32}, {"num_experts", 8}, {"num_experts_per_tok", 3},
              {"num_shared_experts", 1}, {"rope_theta", 500000.0}, {"rms_norm_eps", 1e-6}, {"vocab_size", 100}};
}

std::string error_of(const json& j) {
  try {
    ModelConfig::from_json(j, "cfg.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config: EMO with one shared expert resolves to mode B in every layer") {
  ModelConfig c = ModelConfig::from_json(emo_base(), "cfg.json");
  CHECK(c.arch == Arch::Emo);
  CHECK(c.head_dim == 16);
  CHECK(c.num_kv_heads == 2);
  REQUIRE(c.layers.size() == 3);
  for (const auto& s : c.layers) {
    CHECK(s.mode == RoutingMode::Shared);
    CHECK(s.num_experts == 8);
    CHECK(s.num_shared == 1);
    CHECK(s.num_standard() == 7);
  }
  CHECK(c.rope_theta == 500000.0f);
}

TEST_CASE("config: per-layer experts, dense layers, always-active and the legacy model_type") {
  json j = emo_base();
  j["model_type"] = "flex_olmo_noqknorm_prenorm";
  j["num_experts_per_layer"] = {0, 6, 8};
  j["num_shared_experts_per_layer"] = {0, 1, 2};
  j["dense_intermediate_size"] = 96;
  j["always_active_experts_per_layer"] = {nullptr, {2}, nullptr};
  ModelConfig c = ModelConfig::from_json(j, "cfg.json");
  CHECK(c.arch == Arch::Emo);
  CHECK(!c.layers[0].is_moe());
  CHECK(c.layers[1].mode == RoutingMode::AlwaysActive);
  CHECK(c.layers[2].mode == RoutingMode::Shared);
  CHECK(c.layers[2].num_shared == 2);
  CHECK(c.num_moe_layers() == 2);
  // Without the per-layer shared list, S_L = min(num_shared_experts, E_L).
  j.erase("num_shared_experts_per_layer");
  j.erase("always_active_experts_per_layer");
  c = ModelConfig::from_json(j, "cfg.json");
  CHECK(c.layers[1].num_shared == 1);
}

TEST_CASE("config: transformers 5 rope_parameters are read") {
  json j = emo_base();
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_theta", 12345.0}, {"rope_type", "default"}};
  CHECK(ModelConfig::from_json(j, "cfg.json").rope_theta == 12345.0f);
  j["rope_parameters"]["rope_type"] = "dynamic";  // scaling types: tests/engine/test_rope_scaling.cpp
  CHECK(error_of(j).find("cfg.json: field 'rope_parameters': field 'rope_type': unsupported RoPE scaling 'dynamic'") == 0);
}

TEST_CASE("config: bad configs name the file, the field and expected vs found") {
  json j = emo_base();
  j["model_type"] = "llama";
  CHECK(error_of(j) ==
        "cfg.json: field 'model_type': unknown architecture (expected one of emo, flex_olmo_noqknorm_prenorm, olmoe, flex_olmo, "
        "mixtral, mistral, qwen2_moe, qwen3_moe, deepseek_v2, deepseek_v3, llama4_text, found 'llama')");
  j = emo_base();
  j.erase("hidden_size");
  CHECK(error_of(j) == "cfg.json: field 'hidden_size': missing (required)");
  j = emo_base();
  j["hidden_size"] = "big";
  CHECK(error_of(j).find("field 'hidden_size': wrong type (expected an integer") != std::string::npos);
  j = emo_base();
  j["num_experts_per_layer"] = {8, 8};
  CHECK(error_of(j).find("num_experts_per_layer': wrong length (expected 3 entries") != std::string::npos);
  j = emo_base();
  j["norm_topk_prob"] = true;
  CHECK(error_of(j).find("norm_topk_prob") != std::string::npos);
  j = emo_base();
  j["num_experts_per_tok"] = 9;
  CHECK(error_of(j).find("top-k exceeds the experts of layer 0") != std::string::npos);
  j = emo_base();
  j["num_key_value_heads"] = 3;
  CHECK(error_of(j).find("must divide num_attention_heads") != std::string::npos);
  j = emo_base();
  j["num_experts_per_layer"] = {0, 8, 8};
  CHECK(error_of(j).find("dense_intermediate_size") != std::string::npos);
  j = emo_base();
  j["always_active_experts"] = {9};
  CHECK(error_of(j).find("always-active expert id out of range") != std::string::npos);
}

TEST_CASE("config: a missing config.json names the file") {
  CHECK_THROWS_WITH_AS(ModelConfig::from_file("/nonexistent/config.json"), doctest::Contains("cannot open"), Error);
}

TEST_CASE("config: numbers out of range are refused before anything is allocated") {
  json j = emo_base();
  j["rms_norm_eps"] = -1;
  CHECK(error_of(j) == "cfg.json: field 'rms_norm_eps': out of range (expected a positive number a float holds (1.18e-38 to 3.4e38), found -1)");
  // Positive in JSON but 0 or inf once held as a float: refused, not rounded (a fuzzer's find).
  j = emo_base();
  j["rope_theta"] = 1e-50;
  CHECK(error_of(j).find("field 'rope_theta': out of range") != std::string::npos);
  j = emo_base();
  j["rms_norm_eps"] = 1e-45;
  CHECK(error_of(j).find("field 'rms_norm_eps': out of range") != std::string::npos);
  j = emo_base();
  j["rope_scaling"] = {{"rope_type", "default"}, {"rope_theta", 4e38}};
  CHECK(error_of(j).find("field 'rope_theta': out of range") != std::string::npos);
  j = emo_base();
  j["num_hidden_layers"] = 1073741824;
  CHECK(error_of(j).find("field 'num_hidden_layers': out of range (expected an integer in [1, 65536]") != std::string::npos);
  j = emo_base();
  j["num_experts_per_layer"] = {int64_t(4294967424), 8, 8};
  CHECK(error_of(j).find("bad list entry") != std::string::npos);
  j = emo_base();
  j["hidden_size"] = json::array({json::array({json::array({1})})});
  CHECK(error_of(j) == "cfg.json: field 'hidden_size': wrong type (expected an integer, found a list of 1 entries)");
}

TEST_CASE("config: a number past double's range is invalid JSON, not a crash (fuzz regression)") {
  // tests/fuzz/regressions/config/number-overflow-1e400.json holds just `1e400`; nlohmann reports
  // it as out_of_range, which parse_json once let escape.
  const std::string path = moescope::test::source_dir() + "/tests/fuzz/regressions/config/number-overflow-1e400.json";
  CHECK_THROWS_WITH_AS(ModelConfig::from_file(path),
                       (path + ": not valid JSON ([json.exception.out_of_range.406] number overflow parsing '1e400')").c_str(),
                       Error);
}
