// tokenizer_normalizer.cpp — builds the normalizer chain and runs it: NFC, Prepend (SentencePiece's
// dummy prefix "▁" in older Llama/Mistral files) and Replace (" " -> "▁"). Other HF normalizers
// fail at load time with the field named.
#include "engine/tokenizer/tokenizer_normalizer.h"

#include "engine/tokenizer/unicode_nfc.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

// HF's Prepend: non-empty text gets the prefix, aligned with its first character (so a token of
// the prefix alone still points at real text).
AlignedText prepend(const AlignedText& text, std::string_view prefix) {
  if (text.size() == 0) return text;
  const size_t first_len = utf8_length_from_lead(static_cast<unsigned char>(text.text()[0]));
  const auto anchor = text.to_original(0, first_len);
  AlignedText out;
  out.append_replacement(prefix, anchor.first, anchor.second);
  out.append_slice(text, 0, text.size());
  return out;
}

}  // namespace

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
    steps_.push_back({Kind::NFC, {}, {}});
  } else if (type == "Prepend") {
    steps_.push_back({Kind::Prepend, node.at("prepend").as_string(), {}});
  } else if (type == "Replace") {
    steps_.push_back({Kind::Replace, {}, ReplaceRule::from_json(node)});
  } else {
    type_field.unsupported(type);
  }
}

AlignedText Normalizer::normalize(AlignedText text) const {
  for (const Step& s : steps_) {
    switch (s.kind) {
      case Kind::NFC: text = nfc_normalize(text); break;
      case Kind::Prepend: text = prepend(text, s.prepend); break;
      case Kind::Replace: text = s.replace.apply(text); break;
    }
  }
  return text;
}

std::string Normalizer::normalize(std::string_view text) const {
  if (identity()) return std::string(text);
  return normalize(AlignedText::identity(text, 0)).text();
}

}  // namespace moescope::detail
