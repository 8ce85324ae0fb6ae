// tokenizer_added.h — the added tokens of tokenizer.json (special tokens and friends).
// They are cut out of the text before the model sees it, leftmost-longest like HF's
// AddedVocabulary: tokens with normalized=false on the raw text, the others on normalized text.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::detail {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  // What id_to_token and decode give: content, normalized when normalized is true (as HF does:
  // with a Prepend("▁") normalizer, "xy" reads "▁xy").
  std::string vocab_string;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// A piece of the scanned text: an added token (id >= 0) or plain text (id == -1).
struct TextSplit {
  size_t begin, end;
  int32_t id;
};

// Leftmost-longest matcher over a set of patterns (a byte trie).
class AddedTokenMatcher {
 public:
  void add(std::string_view pattern, int32_t index);
  bool empty() const { return nodes_.size() <= 1; }
  // Cuts text into added tokens and the text between them; appends to out covering all of text.
  void split(std::string_view text, const std::vector<AddedToken>& tokens, std::vector<TextSplit>& out) const;

 private:
  struct Node {
    int32_t token = -1;                               // index into tokens, if a pattern ends here
    std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
  };
  int32_t child(int32_t node, unsigned char byte) const;
  // Longest pattern starting at pos: its end and token index, or false.
  bool longest_at(std::string_view text, size_t pos, size_t* end, int32_t* token) const;

  std::vector<Node> nodes_{Node{}};
  std::array<int32_t, 256> root_next_ = filled_root();  // the root's edges as a table: every byte of text looks here
  static std::array<int32_t, 256> filled_root() {
    std::array<int32_t, 256> a;
    a.fill(-1);
    return a;
  }
};

}  // namespace moescope::detail
