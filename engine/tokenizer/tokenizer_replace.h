// tokenizer_replace.h — HF's Replace rule, shared by the "Replace" normalizer and decoder:
// {"pattern": {"String": s} | {"Regex": r}, "content": c}. As in HF, a String pattern is matched
// as a literal regex (so an empty String matches between any two characters) and every match,
// empty ones included, is replaced by content.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/tokenizer/pretokenizer_regex.h"
#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/tokenizer_text.h"

namespace moescope::detail {

class ReplaceRule {
 public:
  // node is the Replace object (its "pattern" and "content" fields).
  static ReplaceRule from_json(const JsonField& node);

  // Normalizer: content stands for the whole matched original range (HF aligns it with the
  // match's last character only); an empty match's content is aligned with the character
  // before it, as in HF (with nothing at the start of the text).
  AlignedText apply(const AlignedText& text) const;
  // Decoder: one token string (valid UTF-8).
  std::string apply(std::string_view text) const;

 private:
  std::shared_ptr<const Regex> regex_;
  std::string content_;
};

}  // namespace moescope::detail
