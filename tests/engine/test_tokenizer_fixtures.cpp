// test_tokenizer_fixtures.cpp — the tokenizer against outputs of the real HF `tokenizers` library
// (tests/fixtures/tokenizer/*.json, made by tools/fixtures/make_tokenizer_fixtures.py): ids,
// token strings, byte offsets and decode round-trips for Unicode-heavy and edge-case texts.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/engine/test_tokenizer_util.h"

namespace {

using moescope::test::fixtures_dir;
using moescope::test::ids_to_string;
using moescope::test::oracle_tokenizer;
using moescope::test::read_file_bytes;

bool is_continuation(const std::string& s, size_t i) {
  return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
}

// HF reports whole characters for tokens that hold part of one (byte-level BPE); widen ours alike.
std::pair<size_t, size_t> widen_to_chars(const std::string& text, std::pair<size_t, size_t> r) {
  while (r.first > 0 && is_continuation(text, r.first)) --r.first;
  while (is_continuation(text, r.second)) ++r.second;
  return r;
}

void check_fixture(const std::string& name) {
  const auto& tok = oracle_tokenizer(name);
  const auto fixture = nlohmann::json::parse(read_file_bytes(fixtures_dir() + "/tokenizer/" + name + ".json"));
  REQUIRE(fixture.at("source").get<std::string>().find("HF tokenizers") != std::string::npos);
  int passed = 0, total = 0;
  for (const auto& c : fixture.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    CAPTURE(text);
    ++total;
    const auto expected_ids = c.at("ids").get<std::vector<int32_t>>();
    const auto expected_tokens = c.at("tokens").get<std::vector<std::string>>();
    const auto expected_offsets = c.at("offsets").get<std::vector<std::pair<size_t, size_t>>>();
    const bool nfc_changes = c.at("nfc_changes").get<bool>();
    const moescope::Encoding enc = tok.encode(text);

    bool ok = enc.ids == expected_ids;
    CHECK_MESSAGE(enc.ids == expected_ids, "expected" << ids_to_string(expected_ids) << " got" << ids_to_string(enc.ids));
    CHECK(enc.tokens == expected_tokens);
    ok = ok && enc.tokens == expected_tokens;
    REQUIRE(enc.offsets.size() == enc.ids.size());
    if (enc.ids == expected_ids) {
      for (size_t k = 0; k < enc.offsets.size(); ++k) {
        CAPTURE(k);
        const auto ours = widen_to_chars(text, enc.offsets[k]);
        const auto& hf = expected_offsets[k];
        if (nfc_changes) {
          // NFC rewrites map back per normalization segment here, per character in HF: ours
          // must contain HF's range and stay within the text.
          CHECK(ours.first <= hf.first);
          CHECK(ours.second >= hf.second);
          CHECK(ours.second <= text.size());
          ok = ok && ours.first <= hf.first && ours.second >= hf.second;
        } else {
          CHECK(ours == hf);
          ok = ok && ours == hf;
        }
      }
    }
    const std::string decoded = tok.decode(enc.ids);
    CHECK(decoded == c.at("decoded").get<std::string>());
    CHECK(tok.decode(enc.ids, true) == c.at("decoded_skip_special").get<std::string>());
    ok = ok && decoded == c.at("decoded").get<std::string>();
    if (ok) ++passed;
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
