// pretokenizer_metaspace.cpp — the Metaspace pre-tokenizer on AlignedText: each rewritten piece is
// appended as a copy in which every replacement stands for its space, and a prepended replacement
// for the piece's first character (as HF aligns them).
#include "engine/tokenizer/pretokenizer_metaspace.h"

#include <utility>
#include <vector>

#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {

MetaspaceOptions MetaspaceOptions::from_json(const JsonField& node) {
  MetaspaceOptions o;
  const JsonField rep = node.at("replacement");
  o.replacement = rep.as_string();
  if (o.replacement.empty() ||
      utf8_length_from_lead(static_cast<unsigned char>(o.replacement[0])) != o.replacement.size()) {
    rep.fail("expected exactly one character, found '" + o.replacement + "'");
  }
  std::string scheme = "always";
  if (node.has("prepend_scheme")) {
    const JsonField field = node.at("prepend_scheme");
    scheme = field.as_string();
    if (scheme == "always") o.prepend = Prepend::Always;
    else if (scheme == "first") o.prepend = Prepend::First;
    else if (scheme == "never") o.prepend = Prepend::Never;
    else field.fail("expected \"always\", \"first\" or \"never\", found '" + scheme + "'");
  }
  if (!node.bool_or("add_prefix_space", true) && o.prepend != Prepend::Never) {
    node.at("add_prefix_space").fail("false needs prepend_scheme \"never\", found \"" + scheme + "\" (HF refuses it too)");
  }
  o.split = node.bool_or("split", true);
  return o;
}

namespace {

class MetaspaceStep : public PreTokenizerStep {
 public:
  explicit MetaspaceStep(MetaspaceOptions o) : o_(std::move(o)) {}

  void split(AlignedText& text, std::vector<Span>& pieces) const override {
    std::vector<Span> out;
    out.reserve(pieces.size());
    for (Span piece : pieces) {
      piece = rewrite(text, piece);
      if (!o_.split) {
        out.push_back(piece);
        continue;
      }
      // Cut before every replacement: HF's split on it with MergedWithNext.
      const std::string_view v = text.view(piece);
      size_t start = 0;
      for (size_t at = v.find(o_.replacement, 1); at != std::string_view::npos;
           at = v.find(o_.replacement, at + o_.replacement.size())) {
        out.push_back({piece.begin + start, piece.begin + at});
        start = at;
      }
      out.push_back({piece.begin + start, piece.end});
    }
    pieces = std::move(out);
  }

 private:
  // The piece with spaces replaced and the prefix added; the piece itself when nothing changes.
  Span rewrite(AlignedText& text, Span piece) const {
    const std::string_view v = text.view(piece);
    const bool starts_with_replacement = v.front() == ' ' || v.substr(0, o_.replacement.size()) == o_.replacement;
    const size_t first_len = utf8_length_from_lead(static_cast<unsigned char>(v.front()));
    bool prepend = false;
    if (!starts_with_replacement) {
      if (o_.prepend == MetaspaceOptions::Prepend::Always) prepend = true;
      // HF: only the piece whose original offset is 0 (text after an added token is not first).
      if (o_.prepend == MetaspaceOptions::Prepend::First)
        prepend = text.to_original(piece.begin, piece.begin + first_len).first == 0;
    }
    if (!prepend && v.find(' ') == std::string_view::npos) return piece;
    AlignedText copy;  // append_slice cannot read from the text it appends to
    copy.append_slice(text, piece.begin, piece.end);
    Span result{text.size(), 0};
    if (prepend) {
      const auto anchor = copy.to_original(0, first_len);
      text.append_replacement(o_.replacement, anchor.first, anchor.second);
    }
    const std::string& c = copy.text();
    size_t prev = 0;
    for (size_t at = c.find(' '); at != std::string::npos; at = c.find(' ', at + 1)) {
      text.append_slice(copy, prev, at);
      const auto space = copy.to_original(at, at + 1);
      text.append_replacement(o_.replacement, space.first, space.second);
      prev = at + 1;
    }
    text.append_slice(copy, prev, copy.size());
    result.end = text.size();
    return result;
  }

  MetaspaceOptions o_;
};

}  // namespace

std::unique_ptr<PreTokenizerStep> make_metaspace_step(const JsonField& node) {
  return std::make_unique<MetaspaceStep>(MetaspaceOptions::from_json(node));
}

}  // namespace moescope::detail
