// tokenizer_normalizer.h — the "normalizer" of tokenizer.json: null, NFC, Prepend, Replace, or a
// Sequence of those. Normalizing keeps the alignment to the original bytes (see tokenizer_text.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/tokenizer_replace.h"
#include "engine/tokenizer/tokenizer_text.h"

namespace moescope::detail {

class Normalizer {
 public:
  enum class Kind { NFC, Prepend, Replace };

  // node is the "normalizer" field; null gives an identity normalizer.
  static Normalizer from_json(const JsonField& node);

  bool identity() const { return steps_.empty(); }
  AlignedText normalize(AlignedText text) const;
  std::string normalize(std::string_view text) const;  // for added-token contents

 private:
  struct Step {
    Kind kind;
    std::string prepend;  // Prepend: the text put before a non-empty input
    ReplaceRule replace;  // Replace
  };
  void add(const JsonField& node);
  std::vector<Step> steps_;
};

}  // namespace moescope::detail
