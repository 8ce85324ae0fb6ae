// test_tokenizer_fixtures.cpp — the tokenizer against outputs of the real HF `tokenizers` library
// (tests/fixtures/tokenizer/*.json, made by tools/fixtures/make_tokenizer_fixtures.py): ids,
// token strings, byte offsets and decode round-trips for Unicode-heavy and edge-case texts.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/engine/test_tokenizer_fixture_check.h"

namespace {

using moescope::test::check_fixture_case;
using moescope::test::fixtures_dir;
using moescope::test::oracle_tokenizer;
using moescope::test::read_file_bytes;

void check_fixture(const std::string& name) {
  const auto& tok = oracle_tokenizer(name);
  const auto fixture = nlohmann::json::parse(read_file_bytes(fixtures_dir() + "/tokenizer/" + name + ".json"));
  REQUIRE(fixture.at("source").get<std::string>().find("HF tokenizers") != std::string::npos);
  int passed = 0, total = 0;
  for (const auto& c : fixture.at("cases")) {
    ++total;
    if (check_fixture_case(tok, c)) ++passed;
  }
  MESSAGE(name << ".json: " << passed << "/" << total << " fixture cases pass");
  CHECK(total >= 80);
}

}  // namespace

TEST_CASE("tokenizer: HF fixtures, dolma2") { check_fixture("dolma2"); }
TEST_CASE("tokenizer: HF fixtures, olmoe-gpt-neox-20b-pii") { check_fixture("olmoe-gpt-neox-20b-pii"); }
TEST_CASE("tokenizer: HF fixtures, qwen3") { check_fixture("qwen3"); }

TEST_CASE("tokenizer: exact byte offsets of partial-character tokens") {
  // "👍" is 4 bytes that cl100k splits into three tokens; each covers its own bytes.
  const auto& tok = oracle_tokenizer("dolma2");
  const auto enc = tok.encode("a👍");
  REQUIRE(enc.ids == std::vector<int32_t>{64, 9468, 239, 235});
  CHECK(enc.offsets == std::vector<std::pair<size_t, size_t>>{{0, 1}, {1, 3}, {3, 4}, {4, 5}});
}

TEST_CASE("tokenizer: NFC offsets map back to the original bytes") {
  // "e\u0301" (3 bytes) is normalized to "é" (2 bytes); the token holding it covers all 3.
  const auto& tok = oracle_tokenizer("qwen3");
  const std::string text = "cafe\xCC\x81 x";
  const auto enc = tok.encode(text);
  REQUIRE(enc.ids == std::vector<int32_t>{924, 58858, 856});
  CHECK(enc.offsets == std::vector<std::pair<size_t, size_t>>{{0, 2}, {2, 6}, {6, 8}});
}

TEST_CASE("tokenizer: HF fixtures, Split behaviours incl. empty regex matches") {
  const auto fixture =
      nlohmann::json::parse(read_file_bytes(fixtures_dir() + "/tokenizer/split-behaviors.json"));
  nlohmann::json vocab = nlohmann::json::object();
  const auto words = fixture.at("vocab").get<std::vector<std::string>>();
  for (size_t i = 0; i < words.size(); ++i) vocab[words[i]] = i;
  int passed = 0, total = 0;
  for (const auto& c : fixture.at("cases")) {
    const nlohmann::json doc = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", fixture.at("merges")}}},
        {"pre_tokenizer",
         {{"type", "Split"}, {"pattern", {{"Regex", c.at("pattern")}}}, {"behavior", c.at("behavior")},
          {"invert", c.at("invert")}}}};
    const auto tok = moescope::Tokenizer::from_json_text(doc.dump(), "split-behaviors.json");
    CAPTURE(c.dump());
    const auto got = tok.encode(c.at("text").get<std::string>()).tokens;
    CHECK(got == c.at("tokens").get<std::vector<std::string>>());
    passed += got == c.at("tokens").get<std::vector<std::string>>();
    ++total;
  }
  MESSAGE("split-behaviors.json: " << passed << "/" << total << " cases pass");
  CHECK(total == 200);
}
