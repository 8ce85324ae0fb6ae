// tokenizer_replace.cpp — ReplaceRule: PCRE2 matches (iterated like Oniguruma) replaced by content,
// on plain strings (decoder) or on AlignedText keeping the map to the original bytes (normalizer).
#include "engine/tokenizer/tokenizer_replace.h"

#include <utility>
#include <vector>

#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {

ReplaceRule ReplaceRule::from_json(const JsonField& node) {
  ReplaceRule r;
  const JsonField pattern = node.at("pattern");
  const std::string where = pattern.file() + ": " + pattern.path();
  if (pattern.has("Regex")) {
    r.regex_ = std::make_shared<const Regex>(translate_regex(pattern.at("Regex").as_string()), where + ".Regex");
  } else if (pattern.has("String")) {
    r.regex_ = std::make_shared<const Regex>(escape_regex_literal(pattern.at("String").as_string()), where + ".String");
  } else {
    pattern.fail("expected {\"Regex\": ...} or {\"String\": ...}");
  }
  r.content_ = node.at("content").as_string();
  return r;
}

std::string ReplaceRule::apply(std::string_view text) const {
  if (text.empty()) return std::string();  // HF finds no match, not even an empty one, in ""
  std::vector<std::pair<size_t, size_t>> matches;
  regex_->find_all(text, matches);
  std::string out;
  out.reserve(text.size());
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    out.append(text.substr(prev, b - prev));
    out += content_;
    prev = e;
  }
  out.append(text.substr(prev));
  return out;
}

AlignedText ReplaceRule::apply(const AlignedText& text) const {
  if (text.size() == 0) return text;
  std::vector<std::pair<size_t, size_t>> matches;
  regex_->find_all(text.text(), matches);
  if (matches.empty()) return text;
  AlignedText out;
  size_t prev = 0;
  for (const auto& [b, e] : matches) {
    out.append_slice(text, prev, b);
    std::pair<size_t, size_t> orig{0, 0};
    if (b < e) {
      orig = text.to_original(b, e);
    } else if (b > 0) {
      size_t start = b - 1;
      while (start > 0 && (static_cast<unsigned char>(text.text()[start]) & 0xC0) == 0x80) --start;
      orig = text.to_original(start, b);
    }
    out.append_replacement(content_, orig.first, orig.second);
    prev = e;
  }
  out.append_slice(text, prev, text.size());
  return out;
}

}  // namespace moescope::detail
