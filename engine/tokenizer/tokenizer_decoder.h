// tokenizer_decoder.h — the "decoder" of tokenizer.json: turns token strings back into text.
// Supported: null (tokens joined by spaces, as HF does), ByteLevel, and the SentencePiece-style
// ones: Replace, ByteFallback ("<0xNN>" tokens back to bytes), Fuse, Strip, Metaspace, and a
// Sequence of any of these (each step maps the list of token strings to a new list, as HF's
// decode_chain; the result is joined without separator).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/tokenizer_json.h"
#include "engine/tokenizer/tokenizer_replace.h"

namespace moescope::detail {

class Decoder {
 public:
  static Decoder from_json(const JsonField& node);
  std::string decode(const std::vector<std::string_view>& tokens) const;

 private:
  enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
  struct Step {
    Kind kind;
    ReplaceRule replace;      // Replace
    std::string text;         // Strip: the character stripped; Metaspace: the replacement
    size_t start = 0, stop = 0;  // Strip: at most this many characters from each end
    bool drop_first = false;  // Metaspace: replacements in the first token vanish (prepend_scheme != never)
  };
  void add(const JsonField& node);

  bool none_ = true;  // no decoder at all
  std::vector<Step> steps_;
};

}  // namespace moescope::detail
