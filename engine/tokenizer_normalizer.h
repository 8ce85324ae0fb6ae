// tokenizer_normalizer.h — the "normalizer" of tokenizer.json: null, NFC, or a Sequence of those.
// Normalizing keeps the alignment to the original bytes (see tokenizer_text.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer_json.h"
#include "engine/tokenizer_text.h"

namespace moescope::detail {

class Normalizer {
 public:
  enum class Kind { NFC };

  // node is the "normalizer" field; null gives an identity normalizer.
  static Normalizer from_json(const JsonField& node);

  bool identity() const { return steps_.empty(); }
  AlignedText normalize(AlignedText text) const;
  std::string normalize(std::string_view text) const;  // for added-token contents

 private:
  void add(const JsonField& node);
  std::vector<Kind> steps_;
};

}  // namespace moescope::detail
