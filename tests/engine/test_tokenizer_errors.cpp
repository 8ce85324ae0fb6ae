// test_tokenizer_errors.cpp — every tokenizer failure is a moescope::Error that says where:
// the byte offset of invalid UTF-8, the file and field of an unsupported or broken tokenizer.json.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "engine/error.h"
#include "tests/engine/test_tokenizer_util.h"

namespace {

using nlohmann::json;
using moescope::Error;
using moescope::Tokenizer;
using moescope::test::oracle_tokenizer;

json minimal_doc() {
  return {{"version", "1.0"}, {"added_tokens", json::array()}, {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"post_processor", nullptr}, {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 1}, {"ab", 2}}}, {"merges", {"a b"}}}}};
}

std::string load_error(const json& doc) {
  try {
    Tokenizer::from_json_text(doc.dump(), "tokenizer.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("tokenizer errors: invalid UTF-8 names the byte offset") {
  const auto& tok = oracle_tokenizer("dolma2");
  CHECK_THROWS_WITH_AS(tok.encode("abc\xE2\x82"), "input text: invalid UTF-8 at byte 3", Error);  // truncated
  CHECK_THROWS_WITH_AS(tok.encode("ab\xC0\xAF"), "input text: invalid UTF-8 at byte 2", Error);    // overlong '/'
  CHECK_THROWS_WITH_AS(tok.encode("ab\xE0\x80\xAF"), "input text: invalid UTF-8 at byte 2", Error);  // overlong 3-byte
  CHECK_THROWS_WITH_AS(tok.encode("x\x80y"), "input text: invalid UTF-8 at byte 1", Error);      // lone continuation
  CHECK_THROWS_WITH_AS(tok.encode("hello \xED\xA0\x80"), "input text: invalid UTF-8 at byte 6", Error);  // surrogate
  CHECK_THROWS_WITH_AS(tok.encode("\xF4\x90\x80\x80"), "input text: invalid UTF-8 at byte 0", Error);  // > U+10FFFF
  CHECK_THROWS_WITH_AS(tok.encode("0123456789abcdefg\xFF"), "input text: invalid UTF-8 at byte 17", Error);
  CHECK_THROWS_WITH_AS(tok.encode("\xC3\xA9\xC3"), "input text: invalid UTF-8 at byte 2", Error);
  CHECK_NOTHROW(tok.encode("\xF0\x9F\x91\x8D \xEF\xBF\xBD \xF4\x8F\xBF\xBF"));  // valid, incl. U+10FFFF
}

TEST_CASE("tokenizer errors: unsupported components name the file and field") {
  json doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Whitespace"}};
  CHECK(load_error(doc) == "tokenizer.json: pre_tokenizer.type 'Whitespace' is not supported yet");

  doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}}})}};
  CHECK(load_error(doc) == "tokenizer.json: pre_tokenizer.pretokenizers[0].type 'Digits' is not supported yet");

  doc = minimal_doc();
  doc["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}, {{"type", "Lowercase"}}})}};
  CHECK(load_error(doc) == "tokenizer.json: normalizer.normalizers[1].type 'Lowercase' is not supported yet");

  doc = minimal_doc();
  doc["decoder"] = {{"type", "WordPiece"}};
  CHECK(load_error(doc) == "tokenizer.json: decoder.type 'WordPiece' is not supported yet");

  doc = minimal_doc();
  doc["model"]["type"] = "Unigram";
  CHECK(load_error(doc) == "tokenizer.json: model.type 'Unigram' is not supported yet");

  doc = minimal_doc();
  doc["model"]["dropout"] = 0.1;
  CHECK(load_error(doc) == "tokenizer.json: model.dropout '0.1' is not supported yet");

  doc = minimal_doc();
  doc["decoder"] = {{"type", "Sequence"}, {"decoders", json::array({{{"type", "Fuse"}}, {{"type", "CTC"}}})}};
  CHECK(load_error(doc) == "tokenizer.json: decoder.decoders[1].type 'CTC' is not supported yet");

  doc = minimal_doc();
  doc["normalizer"] = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", "_"}},
                                                                          {{"type", "Strip"}}})}};
  CHECK(load_error(doc) == "tokenizer.json: normalizer.normalizers[1].type 'Strip' is not supported yet");

  doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Sideways"}};
  CHECK(load_error(doc) == "tokenizer.json: pre_tokenizer.behavior 'Sideways' is not supported yet");

  doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", json::array({{{"type", "ByteLevel"}}, {{"type", "ByteLevel"}}})}};
  CHECK(load_error(doc).find("pre_tokenizer.pretokenizers[1]: ByteLevel must be the last") != std::string::npos);
}

TEST_CASE("tokenizer errors: broken fields name the file and field") {
  json doc = minimal_doc();
  doc.erase("model");
  CHECK(load_error(doc) == "tokenizer.json: missing field model");

  doc = minimal_doc();
  doc["model"]["merges"] = {"a b", "ab c"};
  CHECK(load_error(doc) == "tokenizer.json: model.merges[1]: token 'c' is not in model.vocab");

  doc = minimal_doc();
  doc["model"]["merges"] = {"a b c"};
  CHECK(load_error(doc).rfind("tokenizer.json: model.merges[0]: expected \"left right\"", 0) == 0);

  doc = minimal_doc();
  doc["model"]["vocab"]["a"] = "zero";
  CHECK(load_error(doc).rfind("tokenizer.json: model.vocab: the id of token 'a'", 0) == 0);

  doc = minimal_doc();
  doc["added_tokens"] = json::array({{{"content", "<x>"}}});
  CHECK(load_error(doc) == "tokenizer.json: missing field added_tokens[0].id");

  doc = minimal_doc();
  doc["model"]["unk_token"] = "<unk>";
  CHECK(load_error(doc) == "tokenizer.json: model.unk_token: '<unk>' is not in model.vocab");

  doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}};
  CHECK(load_error(doc).rfind("tokenizer.json: pre_tokenizer.pattern.Regex: regex does not compile", 0) == 0);

  doc = minimal_doc();
  doc["model"]["merges"] = 5;
  CHECK(load_error(doc) == "tokenizer.json: model.merges: wrong JSON type (expected array, found integer)");
}

TEST_CASE("tokenizer errors: broken SentencePiece-style fields name the file and field") {
  json doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "ab"}};
  CHECK(load_error(doc) == "tokenizer.json: pre_tokenizer.replacement: expected exactly one character, found 'ab'");

  doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "First"}};
  CHECK(load_error(doc) ==
        "tokenizer.json: pre_tokenizer.prepend_scheme: expected \"always\", \"first\" or \"never\", found 'First'");

  doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", false}};
  CHECK(load_error(doc) == "tokenizer.json: pre_tokenizer.add_prefix_space: false needs prepend_scheme \"never\", "
                           "found \"always\" (HF refuses it too)");

  doc = minimal_doc();
  doc["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", json::array({{{"type", "Metaspace"}}})}};
  CHECK(load_error(doc) == "tokenizer.json: missing field pre_tokenizer.pretokenizers[0].replacement");

  doc = minimal_doc();
  doc["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", "(x"}}}, {"content", " "}};
  CHECK(load_error(doc).rfind("tokenizer.json: normalizer.pattern.Regex: regex does not compile", 0) == 0);

  doc["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Glob", "*"}}}, {"content", " "}};
  CHECK(load_error(doc) == "tokenizer.json: normalizer.pattern: expected {\"Regex\": ...} or {\"String\": ...}");

  doc["normalizer"] = {{"type", "Prepend"}, {"prepend", 5}};
  CHECK(load_error(doc) == "tokenizer.json: normalizer.prepend: wrong JSON type (expected string, found integer)");

  doc = minimal_doc();
  doc["decoder"] = {{"type", "Strip"}, {"content", "  "}, {"start", 1}, {"stop", 0}};
  CHECK(load_error(doc) == "tokenizer.json: decoder.content: expected exactly one character, found '  '");

  doc["decoder"] = {{"type", "Strip"}, {"content", " "}, {"start", -1}, {"stop", 0}};
  CHECK(load_error(doc) == "tokenizer.json: decoder.start: expected a count >= 0, found -1");

  doc["decoder"] = {{"type", "Replace"}, {"pattern", {{"String", "_"}}}};
  CHECK(load_error(doc) == "tokenizer.json: missing field decoder.content");
}

TEST_CASE("tokenizer errors: malformed JSON and missing files name the file") {
  try {
    Tokenizer::from_json_text("{\"model\": {\"vocab\": ", "broken.json");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).rfind("broken.json: not valid JSON", 0) == 0);
  }
  const std::string path = "/tmp/moescope_test_malformed_tokenizer.json";
  {
    std::ofstream out(path);
    out << "{ \"model\": [1, 2,, ] }";
  }
  try {
    Tokenizer::from_file(path);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).rfind(path + ": not valid JSON", 0) == 0);
  }
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(Tokenizer::from_file("/nonexistent/tokenizer.json"),
                       "/nonexistent/tokenizer.json: cannot open tokenizer file: No such file or directory", Error);
}

TEST_CASE("tokenizer errors: token ids that would size a huge table are refused (fuzz regressions)") {
  // Tables indexed by id are allocated up to the largest id: INT32_MAX overflowed `max_id + 1`
  // (UB) and 10^9 in a 100-byte file asked for 8 GB. Inputs: tests/fuzz/regressions/tokenizer_json/.
  const std::string dir = moescope::test::source_dir() + "/tests/fuzz/regressions/tokenizer_json/";
  CHECK_THROWS_WITH_AS(Tokenizer::from_file(dir + "vocab-id-int32-max.json"),
                       (dir + "vocab-id-int32-max.json: model.vocab: the id of token 'a' is out of range "
                              "(expected 0..4194303, found 2147483647)").c_str(),
                       Error);
  CHECK_THROWS_WITH_AS(Tokenizer::from_file(dir + "added-token-id-1e9.json"),
                       (dir + "added-token-id-1e9.json: added_tokens[0].id: out of range (expected 0..4194303, found 1000000000)").c_str(),
                       Error);
  json doc = minimal_doc();
  doc["model"]["vocab"]["a"] = -1;
  CHECK(load_error(doc) == "tokenizer.json: model.vocab: the id of token 'a' is out of range (expected 0..4194303, found -1)");
  doc = minimal_doc();
  doc["model"]["vocab"]["a"] = 0.5;
  CHECK(load_error(doc) == "tokenizer.json: model.vocab: the id of token 'a' is not an integer");
  doc = minimal_doc();
  doc["added_tokens"] = json::array({{{"id", -3}, {"content", "<x>"}}});
  CHECK(load_error(doc) == "tokenizer.json: added_tokens[0].id: out of range (expected 0..4194303, found -3)");
}

TEST_CASE("tokenizer errors: a pre-tokenizer regex with \\C is refused (fuzz regression)") {
  // \C matches one byte even in UTF mode, so a Split on it cut 'é' in two and BPE then reported
  // offsets past the end of the text. Input: tests/fuzz/regressions/tokenizer_json/.
  const std::string path = moescope::test::source_dir() + "/tests/fuzz/regressions/tokenizer_json/split-regex-backslash-C.json";
  CHECK_THROWS_WITH_AS(Tokenizer::from_file(path),
                       (path + ": pre_tokenizer.pattern.Regex: regex does not compile with PCRE2: using \\C is disabled "
                               "by the application at offset 2 of '\\C'").c_str(),
                       Error);
}
