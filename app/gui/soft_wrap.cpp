// soft_wrap.cpp — see soft_wrap.h.
#include "app/gui/soft_wrap.h"

#include <algorithm>

namespace moescope::gui {

namespace {

size_t utf8_length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  return std::min(n, s.size() - i);
}

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

Wrapped soft_wrap(std::string_view text, float width, const GlyphAdvance& advance) {
  Wrapped w;
  w.display.reserve(text.size() + text.size() / 32);
  w.kind.reserve(text.size() + text.size() / 32);
  auto push = [&](std::string_view bytes, SoftBreak k) {
    w.display.append(bytes);
    w.kind.insert(w.kind.end(), bytes.size(), k);
  };
  constexpr size_t kNoSpace = ~size_t(0);
  float x = 0, since_space = 0;  // width of the current line, and of its part after its last space
  size_t space = kNoSpace;       // display offset of the current line's last space
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    const std::string_view glyph = text.substr(i, n);
    i += n;
    if (glyph == "\n") {
      push(glyph, SoftBreak::None);
      x = 0;
      space = kNoSpace;
      continue;
    }
    const float a = advance(glyph);
    if (glyph == " ") {
      push(glyph, SoftBreak::None);
      x += a;
      space = w.display.size() - 1;
      since_space = 0;
      continue;
    }
    if (x + a > width && x > 0 && space != kNoSpace) {
      w.display[space] = '\n';
      w.kind[space] = SoftBreak::SpaceShown;
      x = since_space;
      space = kNoSpace;
    }
    if (x + a > width && x > 0) {  // the word alone is wider than the line
      push("\n", SoftBreak::Inserted);
      x = 0;
    }
    push(glyph, SoftBreak::None);
    x += a;
    since_space += a;
  }
  return w;
}

std::string unwrap(std::string_view display, const std::vector<SoftBreak>& kind) {
  std::string out;
  out.reserve(display.size());
  for (size_t i = 0; i < display.size(); ++i) {
    const SoftBreak k = i < kind.size() ? kind[i] : SoftBreak::None;
    if (k == SoftBreak::SpaceShown) out += ' ';
    else if (k == SoftBreak::None) out += display[i];
  }
  return out;
}

size_t text_offset(const Wrapped& w, size_t display_offset) {
  const size_t end = std::min(display_offset, w.kind.size());
  return end - size_t(std::count(w.kind.begin(), w.kind.begin() + std::ptrdiff_t(end), SoftBreak::Inserted));
}

size_t display_offset(const Wrapped& w, size_t text_offset) {
  size_t counted = 0, found = 0;
  for (size_t d = 0; d <= w.kind.size(); ++d) {
    if (counted == text_offset) found = d;
    if (d == w.kind.size()) break;
    if (w.kind[d] != SoftBreak::Inserted && ++counted > text_offset) break;
  }
  return counted < text_offset ? w.kind.size() : found;
}

WrappedEdit apply_display_edit(const Wrapped& before, std::string_view after, size_t cursor_before, size_t cursor_after) {
  const std::string_view old = before.display;
  const size_t len0 = old.size(), len1 = after.size();
  cursor_after = std::min(cursor_after, len1);
  // The edited span: old[p, len0 - s) became after[p, len1 - s). Placed at the cursor when the
  // edit is a plain insertion or deletion there (typing next to a soft break is then read as
  // typed), else the longest common prefix and suffix.
  size_t p = 0, s = 0;
  bool anchored = false;
  if (len1 > len0 && cursor_after >= len1 - len0) {
    const size_t start = cursor_after - (len1 - len0);
    anchored = after.substr(0, start) == old.substr(0, start) && after.substr(cursor_after) == old.substr(start);
    if (anchored) p = start, s = len1 - cursor_after;
  } else if (len1 < len0 && cursor_after + (len0 - len1) <= len0) {
    const size_t start = cursor_after;
    anchored = after.substr(0, start) == old.substr(0, start) && after.substr(start) == old.substr(start + (len0 - len1));
    if (anchored) p = start, s = len1 - start;
  }
  if (!anchored) {
    const size_t most = std::min(len0, len1);
    while (p < most && old[p] == after[p]) ++p;
    while (s < most - p && old[len0 - 1 - s] == after[len1 - 1 - s]) ++s;
  }
  const std::vector<SoftBreak> prefix_kind(before.kind.begin(), before.kind.begin() + std::ptrdiff_t(p));
  const std::vector<SoftBreak> suffix_kind(before.kind.end() - std::ptrdiff_t(s), before.kind.end());
  WrappedEdit out;
  // A Backspace or Delete that removed only inserted breaks: the text did not change, so the
  // character beyond the break goes, as the key meant.
  const bool removed_only_inserted =
      len1 - s == p && len0 - s > p &&
      std::all_of(before.kind.begin() + std::ptrdiff_t(p), before.kind.end() - std::ptrdiff_t(s),
                  [](SoftBreak k) { return k == SoftBreak::Inserted; });
  if (removed_only_inserted) {
    out.text = unwrap(old, before.kind);
    size_t at = text_offset(before, p);
    if (cursor_before >= len0 - s) {  // Backspace: the character before
      if (at == 0) return out;
      size_t from = at - 1;
      while (from > 0 && continuation(out.text[from])) --from;
      out.text.erase(from, at - from);
      out.cursor = from;
    } else {  // Delete: the character after
      if (at < out.text.size()) out.text.erase(at, utf8_length(out.text, at));
      out.cursor = at;
    }
    return out;
  }
  out.text = unwrap(old.substr(0, p), prefix_kind);
  out.text.append(after.substr(p, len1 - s - p));
  out.text += unwrap(old.substr(len0 - s), suffix_kind);
  // The cursor in the text: display bytes before it, less inserted breaks.
  size_t inserted_before = 0;
  for (size_t i = 0; i < cursor_after; ++i) {
    const SoftBreak k = i < p ? prefix_kind[i] : i < len1 - s ? SoftBreak::None : suffix_kind[i - (len1 - s)];
    inserted_before += k == SoftBreak::Inserted;
  }
  out.cursor = cursor_after - inserted_before;
  return out;
}

}  // namespace moescope::gui
