// tokenizer_decoder.cpp — ByteLevel decoding: each token's characters back to bytes, then
// lossy UTF-8 (a token holding a non-byte character, e.g. an added "  ", is taken as-is).
#include "engine/tokenizer_decoder.h"

#include "engine/tokenizer_bytelevel.h"
#include "engine/unicode_utf8.h"

namespace moescope::detail {

Decoder Decoder::from_json(const JsonField& node) {
  Decoder d;
  if (node.is_null()) return d;
  const JsonField type_field = node.at("type");
  const std::string type = type_field.as_string();
  if (type == "ByteLevel") {
    d.kind_ = Kind::ByteLevel;
  } else {
    type_field.unsupported(type);
  }
  return d;
}

std::string Decoder::decode(const std::vector<std::string_view>& tokens) const {
  std::string out;
  if (kind_ == Kind::None) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out.append(tokens[i]);
    }
    return out;
  }
  std::string bytes;
  for (std::string_view t : tokens) {
    const size_t mark = bytes.size();
    if (!byte_level_to_bytes(t, bytes)) {
      bytes.resize(mark);
      bytes.append(t);
    }
  }
  return utf8_lossy(bytes);
}

}  // namespace moescope::detail
