// tokenizer_normalizer.cpp — builds the normalizer chain and runs it.
// Only NFC exists so far; other HF normalizers fail at load time with the field named.
#include "engine/tokenizer_normalizer.h"

#include "engine/unicode_nfc.h"

namespace moescope::detail {

Normalizer Normalizer::from_json(const JsonField& node) {
  Normalizer n;
  if (!node.is_null()) n.add(node);
  return n;
}

void Normalizer::add(const JsonField& node) {
  const JsonField type_field = node.at("type");
  const std::string type = type_field.as_string();
  if (type == "Sequence") {
    const JsonField list = node.at("normalizers");
    for (size_t i = 0; i < list.array_size(); ++i) add(list.at(i));
  } else if (type == "NFC") {
    steps_.push_back(Kind::NFC);
  } else {
    type_field.unsupported(type);
  }
}

AlignedText Normalizer::normalize(AlignedText text) const {
  for (Kind k : steps_) {
    switch (k) {
      case Kind::NFC: text = nfc_normalize(text); break;
    }
  }
  return text;
}

std::string Normalizer::normalize(std::string_view text) const {
  if (identity()) return std::string(text);
  return normalize(AlignedText::identity(text, 0)).text();
}

}  // namespace moescope::detail
