// tokenizer_decoder.h — the "decoder" of tokenizer.json: turns token strings back into text.
// Supported: null (tokens joined by spaces, as HF does) and ByteLevel.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer_json.h"

namespace moescope::detail {

class Decoder {
 public:
  enum class Kind { None, ByteLevel };

  static Decoder from_json(const JsonField& node);
  std::string decode(const std::vector<std::string_view>& tokens) const;

 private:
  Kind kind_ = Kind::None;
};

}  // namespace moescope::detail
