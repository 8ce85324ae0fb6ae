// test_subset.cpp — expert subset (keep) files: every bad file names the file, the field and the
// layer, with expected vs found (the CLI tests cover the same through --keep).
#include <doctest/doctest.h>

#include "engine/config.h"
#include "engine/error.h"
#include "engine/subset.h"
#include "tests/test_paths.h"

using namespace moescope;

namespace {

ModelConfig fixture_config(const std::string& name) {
  return ModelConfig::from_file(test::fixtures_dir() + "/models/" + name + "/config.json");
}

std::string error_of(const std::string& text, const ModelConfig& c) {
  try {
    ExpertSubset::from_json_text(text, "keep.json", c);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("subset: bad keep files name the field, the layer and expected vs found") {
  const ModelConfig c = fixture_config("emo-shared");        // 3 MoE layers, 8 experts, 1 shared
  const ModelConfig dense = fixture_config("emo-per-layer");  // layer 0 is dense
  const std::string f = "keep.json: field 'experts_kept_per_layer'";
  CHECK(error_of("[]", c) == f + ": missing (required)");
  CHECK(error_of(R"({"experts_kept_per_layer": [null]})", c) ==
        f + ": wrong length (expected a list of 3 entries (one per layer), found 1 entries)");
  CHECK(error_of(R"({"experts_kept_per_layer": [1, null, null]})", c) ==
        f + " layer 0: bad entry (expected a list of expert ids or null, found 1)");
  CHECK(error_of(R"({"experts_kept_per_layer": [["a"], null, null]})", c) ==
        f + " layer 0: bad expert id (expected an integer, found \"a\")");
  CHECK(error_of(R"({"experts_kept_per_layer": [[8], null, null]})", c) ==
        f + " layer 0: expert id out of range (expected 0..7, found 8)");
  CHECK(error_of(R"({"experts_kept_per_layer": [[-2], null, null]})", c) ==
        f + " layer 0: expert id out of range (expected 0..7, found -2)");
  // An id past 2^63 once printed as -1 (it was converted to int64_t first).
  CHECK(error_of(R"({"experts_kept_per_layer": [[18446744073709551615], null, null]})", c) ==
        f + " layer 0: expert id out of range (expected 0..7, found 18446744073709551615)");
  CHECK(error_of(R"({"experts_kept_per_layer": [[1, 1], null, null]})", c) == f + " layer 0: an expert id is listed twice");
  CHECK(error_of(R"({"experts_kept_per_layer": [[0], null, null]})", dense) ==
        f + " layer 0: layer is dense (expected null, found a list of 1 entries)");
  CHECK(error_of(R"({"experts_kept_per_layer": [null, [1e400], null]})", c).rfind("keep.json: not valid JSON", 0) == 0);
  CHECK(error_of(R"({"experts_kept_per_layer": [[7, 1], null, []]})", c) == "(no error)");  // shared expert 7 may be listed
}

TEST_CASE("subset: a file that names its model is refused on a model whose config or weights hash differs") {
  const ModelConfig c = fixture_config("emo-shared");
  const std::string text =
      R"({"model": {"path": "/m/emo", "config_hash": "c1", "weights_hash": "w1"}, "experts_kept_per_layer": [[1], null, null]})";
  const ExpertSubset s = ExpertSubset::from_json_text(text, "keep.json", c);
  REQUIRE(s.chosen_for);
  CHECK(s.chosen_for->path == "/m/emo");
  CHECK_NOTHROW(check_subset_model(s, "keep.json", ModelIdentity{"/elsewhere/emo-copy", "c1", "w1"}));  // moved: same model
  const std::string expected =
      "keep.json: chosen for another model: /m/emo (config c1, weights w1), not /m/std (config c1, weights w2); "
      "--force-subset applies it anyway";
  CHECK_THROWS_WITH_AS(check_subset_model(s, "keep.json", ModelIdentity{"/m/std", "c1", "w2"}), expected.c_str(), Error);
  CHECK_THROWS_AS(check_subset_model(s, "keep.json", ModelIdentity{"/m/emo", "c2", "w1"}), Error);
  // No model recorded (hand-written, or EMO's own pruning_metadata.json): nothing to check against.
  const ExpertSubset plain = ExpertSubset::from_json_text(R"({"experts_kept_per_layer": [[1], null, null]})", "keep.json", c);
  CHECK_FALSE(plain.chosen_for);
  CHECK_NOTHROW(check_subset_model(plain, "keep.json", ModelIdentity{"/m/std", "c1", "w2"}));
  // A "model" record without its hashes is a malformed file, not a silent pass.
  CHECK(error_of(R"({"model": {"path": "/m"}, "experts_kept_per_layer": [[1], null, null]})", c).find(
            "keep.json: field 'model': no 'config_hash'") == 0);
}
