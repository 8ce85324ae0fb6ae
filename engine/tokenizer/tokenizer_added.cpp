// tokenizer_added.cpp — leftmost-longest added-token matching with lstrip/rstrip/single_word.
// Follows HF AddedVocabulary::find_matches: a match rejected by single_word is skipped whole,
// lstrip/rstrip widen the token over neighbouring Unicode whitespace.
#include "engine/tokenizer/tokenizer_added.h"

#include <algorithm>

#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

// The code point that ends at byte `end` of valid UTF-8 text (end > 0).
char32_t code_point_before(std::string_view text, size_t end) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  size_t len = 0;
  return decode_utf8(text, b, &len);
}

}  // namespace

void AddedTokenMatcher::add(std::string_view pattern, int32_t index) {
  if (pattern.empty()) return;
  int32_t node = 0;
  for (char ch : pattern) {
    const auto byte = static_cast<unsigned char>(ch);
    int32_t next = child(node, byte);
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& edges = nodes_[static_cast<size_t>(node)].next;
      edges.insert(std::lower_bound(edges.begin(), edges.end(), std::make_pair(byte, int32_t{-1})),
                   {byte, next});
    }
    node = next;
  }
  // The same content twice: the first token listed wins.
  if (nodes_[static_cast<size_t>(node)].token < 0) nodes_[static_cast<size_t>(node)].token = index;
  root_next_[static_cast<unsigned char>(pattern[0])] = child(0, static_cast<unsigned char>(pattern[0]));
}

int32_t AddedTokenMatcher::child(int32_t node, unsigned char byte) const {
  const auto& edges = nodes_[static_cast<size_t>(node)].next;
  auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(byte, int32_t{-1}));
  return it != edges.end() && it->first == byte ? it->second : -1;
}

bool AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t* end, int32_t* token) const {
  int32_t node = root_next_[static_cast<unsigned char>(text[pos])];
  bool found = false;
  for (size_t i = pos; node >= 0;) {
    if (nodes_[static_cast<size_t>(node)].token >= 0) {
      found = true;
      *end = i + 1;
      *token = nodes_[static_cast<size_t>(node)].token;
    }
    if (++i == text.size()) break;
    node = child(node, static_cast<unsigned char>(text[i]));
  }
  return found;
}

void AddedTokenMatcher::split(std::string_view text, const std::vector<AddedToken>& tokens,
                              std::vector<TextSplit>& out) const {
  size_t start_offset = 0;  // end of what has been emitted
  size_t pos = 0;           // where the scan for the next match resumes
  while (!empty() && pos < text.size()) {
    if (root_next_[static_cast<unsigned char>(text[pos])] < 0) {
      ++pos;
      continue;
    }
    size_t stop = 0;
    int32_t index = -1;
    if (!longest_at(text, pos, &stop, &index)) {
      ++pos;
      continue;
    }
    size_t start = pos;
    pos = stop;  // matches never overlap, accepted or not
    if (start < start_offset) continue;  // inside whitespace already taken by an rstrip
    const AddedToken& tok = tokens[static_cast<size_t>(index)];
    if (tok.single_word) {
      const bool word_before = start > 0 && is_word_char(code_point_before(text, start));
      size_t len = 0;
      const bool word_after = stop < text.size() && is_word_char(decode_utf8(text, stop, &len));
      if (word_before || word_after) continue;
    }
    if (tok.lstrip) {
      size_t b = start;
      while (b > start_offset && is_unicode_whitespace(code_point_before(text, b))) {
        do --b; while ((static_cast<unsigned char>(text[b]) & 0xC0) == 0x80);
      }
      start = b;
    }
    if (tok.rstrip) {
      size_t len = 0;
      while (stop < text.size() && is_unicode_whitespace(decode_utf8(text, stop, &len))) stop += len;
      pos = std::max(pos, stop);
    }
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, tok.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({start_offset, text.size(), -1});
}

}  // namespace moescope::detail
