// fuzz_tokenizer_encode.cpp — Tokenizer::encode (engine/tokenizer/tokenizer.h) on arbitrary bytes, with
// real tokenizers loaded once: the emo-sample model's and, when ../shared/oracles is present,
// dolma2, OLMoE's GPT-NeoX, Qwen3 and Mistral v0.1 (see ../shared/oracles/SOURCES.md).
// A bug: anything but moescope::Error escaping, a sanitizer report, and:
//  - invalid UTF-8 that does not throw Error, or valid UTF-8 that throws "invalid UTF-8"
//    (checked against the small validator below, written from RFC 3629, not engine/unicode_utf8);
//  - an Encoding that breaks tokenizer_checks.h;
//  - decode(encode(x)) != x for a byte-level tokenizer where HF guarantees the round trip: no
//    normalizer (for NFC tokenizers only on ASCII input, which NFC leaves alone) and no added
//    token's text in x (lstrip/rstrip tokens swallow whitespace that decode cannot restore);
//  - for Mistral (Metaspace "first" + byte fallback, decoder Replace/ByteFallback/Fuse/Strip):
//    decode(encode(x)) != x without its first character when that is a space, for x holding no
//    "▁" (U+2581 decodes as a space). A leading space is lost because "first" prepends no "▁"
//    to text that starts with one, and Strip removes one leading space. Its added tokens (<unk>,
//    <s>, </s>) strip nothing, so they may appear in x.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/error.h"
#include "engine/json_file.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/tokenizer_checks.h"

namespace {

using moescope::fuzz::bug;

enum class RoundTrip { ByteLevel, Metaspace };

struct Loaded {
  std::string name;
  moescope::Tokenizer tok;
  bool normalizes;                     // has a normalizer (NFC)
  RoundTrip round_trip;
  std::vector<std::string> breakers;   // texts that void the round trip when x holds one
};

std::vector<Loaded> load_all() {
  const std::tuple<const char*, std::string, RoundTrip> files[] = {
      {"emo-sample", moescope::fuzz::source_path("samples/models/emo-sample/tokenizer.json"), RoundTrip::ByteLevel},
      {"dolma2", moescope::fuzz::shared_path("oracles/tokenizers/dolma2/tokenizer.json"), RoundTrip::ByteLevel},
      {"olmoe-gpt-neox-20b-pii", moescope::fuzz::shared_path("oracles/tokenizers/olmoe-gpt-neox-20b-pii/tokenizer.json"),
       RoundTrip::ByteLevel},
      {"qwen3", moescope::fuzz::shared_path("oracles/tokenizers/qwen3/tokenizer.json"), RoundTrip::ByteLevel},
      {"mistral-v0.1", moescope::fuzz::shared_path("oracles/tokenizers/mistral-v0.1/tokenizer.json"), RoundTrip::Metaspace},
  };
  std::vector<Loaded> out;
  for (const auto& [name, path, round_trip] : files) {
    if (!std::filesystem::exists(path)) {
      std::fprintf(stderr, "fuzz_tokenizer_encode: %s not found, skipping the %s tokenizer\n", path.c_str(), name);
      continue;
    }
    const std::string text = moescope::read_text_file(path, "tokenizer file");
    const nlohmann::json j = nlohmann::json::parse(text);
    std::vector<std::string> breakers;
    if (round_trip == RoundTrip::ByteLevel) {
      for (const auto& t : j.at("added_tokens")) breakers.push_back(t.at("content").get<std::string>());
    } else {
      breakers.push_back("\xE2\x96\x81");
    }
    out.push_back({name, moescope::Tokenizer::from_json_text(text, path), !j.at("normalizer").is_null(), round_trip,
                   breakers});
  }
  if (out.empty()) bug("no tokenizer to fuzz (samples/models/emo-sample/tokenizer.json is missing)");
  return out;
}

// RFC 3629: decode each sequence, then reject overlongs, surrogates and code points past U+10FFFF.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp, min;
    if (c < 0x80) { len = 1; cp = c; min = 0; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return false;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

void fuzz_one(const Loaded& t, std::string_view text, bool valid) {
  moescope::Encoding enc;
  try {
    enc = t.tok.encode(text);
  } catch (const moescope::Error& e) {
    if (valid) bug(t.name + ": valid UTF-8 rejected: " + e.what());
    return;
  }
  if (!valid) bug(t.name + ": invalid UTF-8 accepted");
  moescope::fuzz::check_encoding(t.tok, text, enc, t.name);
  const std::string decoded = t.tok.decode(enc.ids);
  if (t.normalizes && !is_ascii(text)) return;
  for (const std::string& a : t.breakers)
    if (text.find(a) != std::string_view::npos) return;
  std::string_view expected = text;
  if (t.round_trip == RoundTrip::Metaspace && !expected.empty() && expected.front() == ' ') expected.remove_prefix(1);
  if (decoded != expected)
    bug(t.name + ": decode(encode(x)) != x" + (expected.size() < text.size() ? " minus its leading space" : ""));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Loaded> tokenizers = load_all();
  const std::string_view text = moescope::fuzz::as_text(data, size);
  const bool valid = valid_utf8(text);
  for (const Loaded& t : tokenizers) fuzz_one(t, text, valid);
  return 0;
}
