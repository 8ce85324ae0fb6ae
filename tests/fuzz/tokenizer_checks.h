// tokenizer_checks.h — what every Encoding must satisfy (engine/tokenizer/tokenizer.h): one id, token string
// and offset per token; ids inside the vocabulary; offsets byte ranges [begin, end) of the input.
#pragma once

#include <string>
#include <string_view>

#include "engine/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"

namespace moescope::fuzz {

inline void check_encoding(const Tokenizer& tok, std::string_view text, const Encoding& enc, const std::string& who) {
  if (enc.tokens.size() != enc.ids.size() || enc.offsets.size() != enc.ids.size())
    bug(who + ": ids, tokens and offsets differ in length");
  for (size_t k = 0; k < enc.ids.size(); ++k) {
    const int32_t id = enc.ids[k];
    if (id < 0 || size_t(id) >= tok.vocab_size()) bug(who + ": token " + std::to_string(k) + " has id outside the vocabulary");
    if (enc.tokens[k] != tok.id_to_token(id)) bug(who + ": token string differs from id_to_token");
    const auto [b, e] = enc.offsets[k];
    if (b > e || e > text.size()) bug(who + ": token " + std::to_string(k) + " has an offset outside the input");
  }
}

}  // namespace moescope::fuzz
