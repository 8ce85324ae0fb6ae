// pretokenizer_metaspace.h — HF's Metaspace (SentencePiece-style spaces): every " " becomes the
// replacement character ("▁"), one replacement is put in front of a piece per prepend_scheme
// (always; first: only the piece that starts the input; never), and with split the piece is cut
// before every replacement character. The Metaspace decoder reads the same options.
#pragma once

#include <memory>
#include <string>

#include "engine/tokenizer/pretokenizer.h"
#include "engine/tokenizer/tokenizer_json.h"

namespace moescope::detail {

struct MetaspaceOptions {
  enum class Prepend { Always, First, Never };
  std::string replacement;  // exactly one character (UTF-8)
  Prepend prepend = Prepend::Always;
  bool split = true;

  // HF's rules: prepend_scheme defaults to always; the older add_prefix_space=false is only
  // accepted with prepend_scheme "never"; split defaults to true.
  static MetaspaceOptions from_json(const JsonField& node);
};

std::unique_ptr<PreTokenizerStep> make_metaspace_step(const JsonField& node);

}  // namespace moescope::detail
