// tokenizer_text.h — text flowing through normalizers and pre-tokenizers, with a map back to the
// byte offsets of the caller's original input. Pieces are byte ranges (Span) of an AlignedText;
// steps that rewrite text append the rewritten copy, so earlier Spans stay valid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moescope::detail {

struct Span {
  size_t begin = 0, end = 0;
  size_t size() const { return end - begin; }
};

// text[text_begin, text_end) stands for original[orig_begin, orig_end). An exact run maps byte
// for byte; any other run (a normalization rewrite, an inserted prefix) is indivisible.
struct AlignRun {
  size_t text_begin, text_end;
  size_t orig_begin, orig_end;
  bool exact;
};

class AlignedText {
 public:
  AlignedText() = default;
  // The original text itself (or a slice of it starting at orig_begin), mapped byte for byte.
  static AlignedText identity(std::string_view text, size_t orig_begin);

  const std::string& text() const { return text_; }
  std::string_view view(Span s) const { return std::string_view(text_).substr(s.begin, s.size()); }
  size_t size() const { return text_.size(); }

  void append_exact(std::string_view bytes, size_t orig_begin);
  // bytes replace original[orig_begin, orig_end) as a whole.
  void append_replacement(std::string_view bytes, size_t orig_begin, size_t orig_end);
  // Copies src.text()[begin, end) together with its alignment (src must not be *this).
  void append_slice(const AlignedText& src, size_t begin, size_t end);
  // Appends `prefix` (aligned with the piece's first character) followed by a copy of piece;
  // returns the new span. Safe although piece lies in *this.
  Span append_prefixed_copy(std::string_view prefix, Span piece);

  // Original byte range covered by text[begin, end); begin < end.
  std::pair<size_t, size_t> to_original(size_t begin, size_t end) const;

 private:
  void push_run(const AlignRun& run);
  const AlignRun& run_at(size_t pos) const;

  std::string text_;
  std::vector<AlignRun> runs_;  // sorted, contiguous, none empty
};

}  // namespace moescope::detail
