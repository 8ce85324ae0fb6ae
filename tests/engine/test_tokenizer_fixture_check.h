// test_tokenizer_fixture_check.h — one case of an HF fixture (tools/fixtures/make_*tokenizer_fixtures.py)
// against the engine: ids, token strings, byte offsets, decode with and without special tokens.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tokenizer/tokenizer.h"
#include "tests/engine/test_tokenizer_util.h"

namespace moescope::test {

inline bool is_utf8_continuation(const std::string& s, size_t i) {
  return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
}

// HF reports whole characters for tokens that hold part of one (byte-level BPE, byte fallback);
// widen ours alike.
inline std::pair<size_t, size_t> widen_to_chars(const std::string& text, std::pair<size_t, size_t> r) {
  while (r.first > 0 && is_utf8_continuation(text, r.first)) --r.first;
  while (is_utf8_continuation(text, r.second)) ++r.second;
  return r;
}

// HF's string for an added token is the text it matched, with the whitespace lstrip/rstrip took;
// ours is the token's vocabulary string (id_to_token).
inline bool same_token_string(const std::string& ours, const std::string& hf) {
  if (ours == hf) return true;
  const size_t at = hf.find(ours);
  if (ours.empty() || at == std::string::npos) return false;
  const auto only_padding = [](std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ++i;
      else return false;
    }
    return true;
  };
  return only_padding(std::string_view(hf).substr(0, at)) && only_padding(std::string_view(hf).substr(at + ours.size()));
}

// Checks one fixture case; true when everything matched. Offsets compare "exact" unless the case
// says "contains" (ours must hold HF's range: NFC, multi-character Replace) or "skip" (HF's own
// offsets are shifted; the fixture says why). A null "decoded" means HF panicked while decoding
// (its Strip decoder on a too-short token); ours must just return.
inline bool check_fixture_case(const Tokenizer& tok, const nlohmann::json& c) {
  const std::string text = c.at("text").get<std::string>();
  CAPTURE(text);
  const auto expected_ids = c.at("ids").get<std::vector<int32_t>>();
  const auto expected_tokens = c.at("tokens").get<std::vector<std::string>>();
  const auto expected_offsets = c.at("offsets").get<std::vector<std::pair<size_t, size_t>>>();
  const std::string compare = c.value("offsets_compare", c.at("nfc_changes").get<bool>() ? "contains" : "exact");
  const Encoding enc = tok.encode(text);

  bool ok = enc.ids == expected_ids;
  CHECK_MESSAGE(enc.ids == expected_ids, "expected" << ids_to_string(expected_ids) << " got" << ids_to_string(enc.ids));
  REQUIRE(enc.offsets.size() == enc.ids.size());
  REQUIRE(enc.tokens.size() == enc.ids.size());
  if (enc.ids == expected_ids) {
    for (size_t k = 0; k < enc.offsets.size(); ++k) {
      CAPTURE(k);
      CHECK(same_token_string(enc.tokens[k], expected_tokens[k]));
      ok = ok && same_token_string(enc.tokens[k], expected_tokens[k]);
      const auto ours = widen_to_chars(text, enc.offsets[k]);
      const auto& hf = expected_offsets[k];
      CHECK(ours.second <= text.size());
      if (compare == "contains") {
        CHECK(ours.first <= hf.first);
        CHECK(ours.second >= hf.second);
        ok = ok && ours.first <= hf.first && ours.second >= hf.second;
      } else if (compare == "exact") {
        CHECK(ours == hf);
        ok = ok && ours == hf;
      } else {
        REQUIRE(compare == "skip");
      }
    }
  }
  for (const bool skip : {false, true}) {
    const nlohmann::json& expected = c.at(skip ? "decoded_skip_special" : "decoded");
    const std::string decoded = tok.decode(enc.ids, skip);
    if (expected.is_null()) continue;
    CHECK(decoded == expected.get<std::string>());
    ok = ok && decoded == expected.get<std::string>();
  }
  return ok;
}

}  // namespace moescope::test
