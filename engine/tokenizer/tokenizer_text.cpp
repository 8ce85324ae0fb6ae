// tokenizer_text.cpp — AlignedText: text plus its byte map back to the original input.
// Exact runs are merged as they are appended, so ASCII or unchanged text costs one run.
#include "engine/tokenizer/tokenizer_text.h"

#include <algorithm>

#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {

AlignedText AlignedText::identity(std::string_view text, size_t orig_begin) {
  AlignedText t;
  t.append_exact(text, orig_begin);
  return t;
}

void AlignedText::push_run(const AlignRun& run) {
  if (run.text_begin == run.text_end) return;  // deleted text maps to nothing
  if (!runs_.empty() && run.exact) {
    AlignRun& last = runs_.back();
    if (last.exact && last.text_end == run.text_begin && last.orig_end == run.orig_begin) {
      last.text_end = run.text_end;
      last.orig_end = run.orig_end;
      return;
    }
  }
  runs_.push_back(run);
}

void AlignedText::append_exact(std::string_view bytes, size_t orig_begin) {
  const size_t b = text_.size();
  text_.append(bytes);
  push_run({b, text_.size(), orig_begin, orig_begin + bytes.size(), true});
}

void AlignedText::append_replacement(std::string_view bytes, size_t orig_begin, size_t orig_end) {
  const size_t b = text_.size();
  text_.append(bytes);
  push_run({b, text_.size(), orig_begin, orig_end, false});
}

void AlignedText::append_slice(const AlignedText& src, size_t begin, size_t end) {
  if (begin >= end) return;
  const size_t shift_base = text_.size();
  text_.append(src.text_, begin, end - begin);
  auto it = std::upper_bound(src.runs_.begin(), src.runs_.end(), begin,
                             [](size_t pos, const AlignRun& r) { return pos < r.text_begin; });
  --it;
  for (; it != src.runs_.end() && it->text_begin < end; ++it) {
    const size_t tb = std::max(it->text_begin, begin), te = std::min(it->text_end, end);
    AlignRun r{shift_base + (tb - begin), shift_base + (te - begin), it->orig_begin, it->orig_end, it->exact};
    if (it->exact) {  // clip the original side by the same amount
      r.orig_begin = it->orig_begin + (tb - it->text_begin);
      r.orig_end = it->orig_begin + (te - it->text_begin);
    }
    push_run(r);
  }
}

Span AlignedText::append_prefixed_copy(std::string_view prefix, Span piece) {
  const AlignedText copy = [&] {
    AlignedText c;
    c.append_slice(*this, piece.begin, piece.end);
    return c;
  }();
  // Like HF, the inserted prefix is aligned with the piece's first character, so a token made
  // of the prefix alone still points at real text.
  std::pair<size_t, size_t> anchor{0, 0};
  if (piece.size()) {
    const size_t first_len = utf8_length_from_lead(static_cast<unsigned char>(text_[piece.begin]));
    anchor = to_original(piece.begin, std::min(piece.end, piece.begin + first_len));
  }
  Span out{text_.size(), 0};
  append_replacement(prefix, anchor.first, anchor.second);
  append_slice(copy, 0, copy.size());
  out.end = text_.size();
  return out;
}

const AlignRun& AlignedText::run_at(size_t pos) const {
  auto it = std::upper_bound(runs_.begin(), runs_.end(), pos,
                             [](size_t p, const AlignRun& r) { return p < r.text_begin; });
  return *(it - 1);
}

std::pair<size_t, size_t> AlignedText::to_original(size_t begin, size_t end) const {
  const AlignRun& first = run_at(begin);
  const AlignRun& last = run_at(end - 1);
  const size_t ob = first.exact ? first.orig_begin + (begin - first.text_begin) : first.orig_begin;
  const size_t oe = last.exact ? last.orig_begin + (end - last.text_begin) : last.orig_end;
  return {ob, std::max(ob, oe)};
}

}  // namespace moescope::detail
