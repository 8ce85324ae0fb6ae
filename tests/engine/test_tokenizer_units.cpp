// test_tokenizer_units.cpp — tokenizer components on tiny hand-made tokenizer.json files:
// merge order, merge formats, ignore_merges, subword prefix/suffix, unk, Split behaviours,
// ByteLevel prefix space, added-token flags, decode, and the lookup API on the real files.
// Expected values were checked against HF tokenizers 0.23 on the same JSON.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <thread>

#include "engine/tokenizer/pretokenizer_regex.h"
#include "engine/tokenizer/tokenizer_bytelevel.h"
#include "tests/engine/test_tokenizer_util.h"

namespace {

using nlohmann::json;
using moescope::Tokenizer;
using moescope::test::oracle_tokenizer;

json bpe_model(const std::vector<std::string>& vocab, json merges) {
  json v = json::object();
  for (size_t i = 0; i < vocab.size(); ++i) v[vocab[i]] = i;
  return {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
          {"vocab", v}, {"merges", std::move(merges)}};
}

Tokenizer make(json model, json pre_tokenizer = nullptr, json added = json::array(), json decoder = nullptr) {
  json doc = {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
              {"normalizer", nullptr}, {"pre_tokenizer", pre_tokenizer}, {"post_processor", nullptr},
              {"decoder", decoder}, {"model", std::move(model)}};
  return Tokenizer::from_json_text(doc.dump(), "synthetic.json");
}

std::vector<std::string> tokens(const Tokenizer& t, const std::string& text) { return t.encode(text).tokens; }

using Offsets = std::vector<std::pair<size_t, size_t>>;
using Strings = std::vector<std::string>;

json added_token(int id, const std::string& content, json flags = json::object()) {
  json a = {{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
            {"rstrip", false}, {"normalized", false}, {"special", true}};
  for (auto& [k, v] : flags.items()) a[k] = v;
  return a;
}

}  // namespace

TEST_CASE("bpe: lowest rank merges first, leftmost on ties") {
  const Strings vocab{"a", "b", "c", "ab", "bc", "abc"};
  CHECK(tokens(make(bpe_model(vocab, {"a b", "b c", "ab c"})), "abcab") == Strings{"abc", "ab"});
  CHECK(tokens(make(bpe_model(vocab, {"b c", "a b"})), "abc") == Strings{"a", "bc"});
  // The same merges as [left, right] pairs.
  CHECK(tokens(make(bpe_model(vocab, json::array({json::array({"b", "c"}), json::array({"a", "b"})}))), "abc") ==
        Strings{"a", "bc"});
  CHECK(tokens(make(bpe_model({"a", "aa"}, {"a a"})), "aaaaa") == Strings{"aa", "aa", "a"});
  CHECK(make(bpe_model(vocab, {"a b"})).encode("abcab").offsets == Offsets{{0, 2}, {2, 3}, {3, 5}});
}

TEST_CASE("bpe: ignore_merges emits a word found whole in the vocab") {
  const Strings vocab{"a", "b", "c", "ab", "bc", "abc"};
  json m = bpe_model(vocab, {"a b"});
  CHECK(tokens(make(m), "abc") == Strings{"ab", "c"});
  m["ignore_merges"] = true;
  CHECK(tokens(make(m), "abc") == Strings{"abc"});
  CHECK(tokens(make(m), "abcc") == Strings{"ab", "c", "c"});
}

TEST_CASE("bpe: continuing_subword_prefix and end_of_word_suffix") {
  json m = bpe_model({"a", "##b", "ab"}, {"a ##b"});
  m["continuing_subword_prefix"] = "##";
  CHECK(tokens(make(m), "ab") == Strings{"ab"});
  json s = bpe_model({"a", "b</w>", "ab</w>", "b"}, {"a b</w>"});
  s["end_of_word_suffix"] = "</w>";
  CHECK(tokens(make(s), "ab") == Strings{"ab</w>"});
  CHECK(tokens(make(s), "abb") == Strings{"a", "b", "b</w>"});
  // Empty strings behave like null.
  json e = bpe_model({"a", "b", "ab"}, {"a b"});
  e["continuing_subword_prefix"] = "";
  e["end_of_word_suffix"] = "";
  CHECK(tokens(make(e), "ab") == Strings{"ab"});
}

TEST_CASE("bpe: unknown characters become unk_token, fused or not") {
  json m = bpe_model({"<unk>", "a"}, json::array());
  m["unk_token"] = "<unk>";
  m["fuse_unk"] = true;
  const auto fused = make(m).encode("axyza");
  CHECK(fused.tokens == Strings{"a", "<unk>", "a"});
  CHECK(fused.offsets == Offsets{{0, 1}, {1, 4}, {4, 5}});
  m["fuse_unk"] = false;
  CHECK(tokens(make(m), "axyza") == Strings{"a", "<unk>", "<unk>", "<unk>", "a"});
  // Without unk_token HF drops them (it then shifts later offsets; ours stay exact).
  const auto dropped = make(bpe_model({"a"}, json::array())).encode("axyza");
  CHECK(dropped.tokens == Strings{"a", "a"});
  CHECK(dropped.offsets == Offsets{{0, 1}, {4, 5}});
}

TEST_CASE("pre_tokenizer: Split behaviours and invert") {
  const Strings vocab{"a", "b", "-", "a-", "-b", "--", "a-b"};
  const json merges = {"a -", "- b", "- -", "a- b"};
  const auto split = [&](const std::string& behavior, bool invert, const std::string& text) {
    const json pre = {{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}, {"invert", invert}};
    return tokens(make(bpe_model(vocab, merges), pre), text);
  };
  CHECK(tokens(make(bpe_model(vocab, merges)), "a-b") == Strings{"a-b"});  // no split: one word
  CHECK(split("Removed", false, "a--b") == Strings{"a", "b"});
  CHECK(split("Removed", true, "a--b") == Strings{"-", "-"});
  CHECK(split("Isolated", false, "a--b") == Strings{"a", "-", "-", "b"});
  CHECK(split("MergedWithPrevious", false, "a-b") == Strings{"a-", "b"});
  CHECK(split("MergedWithPrevious", false, "a--b") == Strings{"a-", "-", "b"});
  CHECK(split("MergedWithPrevious", true, "a--b") == Strings{"a", "-", "-b"});
  CHECK(split("MergedWithNext", false, "a--b") == Strings{"a", "-", "-b"});
  CHECK(split("MergedWithNext", true, "a-b") == Strings{"a-", "b"});
  CHECK(split("Contiguous", false, "a--b") == Strings{"a", "--", "b"});
  CHECK(split("Contiguous", true, "a--b") == Strings{"a", "--", "b"});
  const json regex = {{"type", "Split"}, {"pattern", {{"Regex", "-+"}}}, {"behavior", "Isolated"}, {"invert", false}};
  CHECK(tokens(make(bpe_model(vocab, merges), regex), "a--b") == Strings{"a", "--", "b"});
}

TEST_CASE("pre_tokenizer: ByteLevel add_prefix_space prefixes every piece, aligned to its first character") {
  json vocab = json::object();
  const auto& chars = moescope::detail::byte_level_chars();
  for (int b = 0; b < 256; ++b) vocab[chars[b]] = b;
  vocab["Ġh"] = 256;
  vocab["Ġhi"] = 257;
  const json model = {{"type", "BPE"}, {"vocab", vocab},
                      {"merges", json::array({json::array({"Ġ", "h"}), json::array({"Ġh", "i"})})}};
  const json pre = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  const json decoder = {{"type", "ByteLevel"}};
  const Tokenizer t = make(model, pre, json::array({added_token(258, "<x>")}), decoder);
  auto e = t.encode("hi world");
  CHECK(e.ids == std::vector<int32_t>{257, 32, 119, 111, 114, 108, 100});
  CHECK(e.offsets == Offsets{{0, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}});
  CHECK(t.decode(e.ids) == " hi world");
  e = t.encode("hi<x>hi");
  CHECK(e.ids == std::vector<int32_t>{257, 258, 257});
  CHECK(e.offsets == Offsets{{0, 2}, {2, 5}, {5, 7}});
  CHECK(t.decode(e.ids) == " hi<x> hi");
  CHECK(t.decode(e.ids, true) == " hi hi");
  e = t.encode(" hi");
  CHECK(e.ids == std::vector<int32_t>{257});
  e = t.encode("\xC3\xA9");  // é: the prefix token points at the whole character
  CHECK(e.ids == std::vector<int32_t>{32, 195, 169});
  CHECK(e.offsets == Offsets{{0, 2}, {0, 1}, {1, 2}});
}

TEST_CASE("added tokens: leftmost-longest, lstrip, rstrip, single_word") {
  const Strings vocab{"a", "b", " ", "<", "m", ">"};
  const auto with = [&](json flags) {
    return make(bpe_model(vocab, json::array()), nullptr, json::array({added_token(6, "<m>", std::move(flags))}));
  };
  auto t = with({{"lstrip", true}});
  CHECK(t.encode("a <m> b").offsets == Offsets{{0, 1}, {1, 5}, {5, 6}, {6, 7}});
  CHECK(t.encode("  <m>  ").offsets == Offsets{{0, 5}, {5, 6}, {6, 7}});
  t = with({{"rstrip", true}});
  CHECK(t.encode("a <m> b").offsets == Offsets{{0, 1}, {1, 2}, {2, 6}, {6, 7}});
  t = with({{"lstrip", true}, {"rstrip", true}});
  CHECK(t.encode("a <m> b").tokens == Strings{"a", "<m>", "b"});
  CHECK(t.encode("  <m>  ").offsets == Offsets{{0, 7}});
  t = with({{"single_word", true}});
  CHECK(t.encode("a<m> <m>b <m>").tokens ==
        Strings{"a", "<", "m", ">", " ", "<", "m", ">", "b", " ", "<m>"});

  const json plain = {{"special", false}};
  const Tokenizer lm = make(bpe_model({"a", "b", "c", "d", "x"}, json::array()), nullptr,
                            json::array({added_token(7, "ab", plain), added_token(8, "abc", plain),
                                         added_token(9, "bcd", plain)}));
  CHECK(lm.encode("xabcd").tokens == Strings{"x", "abc", "d"});
  CHECK(lm.encode("xbcdabx").tokens == Strings{"x", "bcd", "ab", "x"});
}

TEST_CASE("tokenizer: lookups on the real files") {
  const auto& qwen = oracle_tokenizer("qwen3");
  CHECK(qwen.vocab_size() == 151669);
  CHECK(qwen.token_to_id("<|im_end|>") == 151645);
  CHECK(qwen.token_to_id("Hello") == 9707);
  CHECK(!qwen.token_to_id("no such token"));
  CHECK(qwen.id_to_token(151667) == "<think>");
  CHECK(qwen.id_to_token(-1).empty());
  CHECK(qwen.id_to_token(10'000'000).empty());
  CHECK(qwen.is_special(151643));
  CHECK(!qwen.is_special(9707));
  CHECK(oracle_tokenizer("dolma2").vocab_size() == 100278);
  CHECK(!oracle_tokenizer("dolma2").is_special(100256));  // <|extra_id_0|> is not special
  CHECK(oracle_tokenizer("olmoe-gpt-neox-20b-pii").vocab_size() == 50280);
  CHECK(qwen.encode("").ids.empty());
}

TEST_CASE("tokenizer: decode drops unknown ids, skips specials on request, repairs bytes") {
  const auto& dolma = oracle_tokenizer("dolma2");
  CHECK(dolma.decode({15339, 99999999, 1917}) == "hello world");
  CHECK(dolma.decode({15339, 100257}) == "hello<|endoftext|>");
  CHECK(dolma.decode({15339, 100257}, true) == "hello");
  CHECK(dolma.decode({9468, 239}) == "\xEF\xBF\xBD");         // a cut-off emoji: one U+FFFD
  CHECK(dolma.decode({9468, 239, 235}) == "\xF0\x9F\x91\x8D");  // 👍
}

TEST_CASE("tokenizer: long runs and repeated words") {
  const auto& neox = oracle_tokenizer("olmoe-gpt-neox-20b-pii");
  const std::string spaces(100000, ' ');
  const std::string text = "a" + spaces + "b\n" + std::string(50000, 'z') + std::string(30000, '\t');
  const auto enc = neox.encode(text);
  CHECK(neox.decode(enc.ids) == text);
  CHECK(enc.offsets.front().first == 0);
  CHECK(enc.offsets.back().second == text.size());
  for (size_t k = 1; k < enc.offsets.size(); ++k) CHECK(enc.offsets[k].first == enc.offsets[k - 1].second);
}

TEST_CASE("tokenizer: encode is safe from several threads") {
  const auto& qwen = oracle_tokenizer("qwen3");
  std::string text;
  for (int i = 0; i < 300; ++i) text += "Sentence " + std::to_string(i * 7919) + " with wörds, 数字 and émoji 🤖.\n";
  const auto expected = qwen.encode(text).ids;
  std::vector<std::vector<int32_t>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) got[t] = qwen.encode(text).ids;
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& g : got) CHECK(g == expected);
}

TEST_CASE("regex: Oniguruma spellings become PCRE2 ones") {
  using moescope::detail::escape_regex_literal;
  using moescope::detail::translate_regex;
  // \s is Unicode White_Space in Oniguruma; PCRE2's own \s would also take U+180E.
  CHECK(translate_regex(R"(\s+(?!\S))") == R"(\p{White_Space}+(?!\P{White_Space}))");
  CHECK(translate_regex(R"([^\s\p{L}\p{N}]+)") == R"([^\p{White_Space}\p{L}\p{N}]+)");
  CHECK(translate_regex(R"(\w[\w-]\h\v\\s)") ==
        R"([\p{L}\p{M}\p{Nd}\p{Pc}][\p{L}\p{M}\p{Nd}\p{Pc}-][0-9a-fA-F]\x{0B}\\s)");
  CHECK(translate_regex(R"((?i:'s|'t)|\p{N}{1,3}|[[:alpha:]])") == R"((?i:'s|'t)|\p{N}{1,3}|[[:alpha:]])");
  CHECK(escape_regex_literal("a.b*(c)") == R"(a\.b\*\(c\))");
}
