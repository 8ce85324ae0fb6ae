// soft_wrap.h — word wrap for an editable text box. Debian's Dear ImGui (1.86) has no wrapping
// multiline input, so the box edits a *display* copy of the text in which some line breaks are
// soft: a space shown as a break (the usual case), or a break inserted inside a word with no
// space to break at (CJK text, long URLs). After each edit the display copy is mapped back to
// the text, the text is wrapped again and the cursor put where it was in the text.
// Pure: no ImGui here, the widget (widget_wrapped_input.*) measures glyphs and calls in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace moescope::gui {

enum class SoftBreak : uint8_t {
  None = 0,      // a byte of the text as typed
  SpaceShown,    // a space of the text, shown as a line break
  Inserted,      // a line break not in the text at all
};

struct Wrapped {
  std::string display;          // the text with its soft breaks, as the box shows it
  std::vector<SoftBreak> kind;  // [display bytes]
};

// Width of one UTF-8 character (its bytes) in the units of `width`.
using GlyphAdvance = std::function<float(std::string_view glyph)>;

// Greedy word wrap: a line is broken at its last space before the width is passed (the space
// becomes the break); a line with no space is broken before the character that passes the
// width. Hard newlines stay. Spaces may hang past the width, as in any editor.
Wrapped soft_wrap(std::string_view text, float width, const GlyphAdvance& advance);

// The text a display string stands for: shown spaces back to spaces, inserted breaks dropped.
std::string unwrap(std::string_view display, const std::vector<SoftBreak>& kind);

// Byte offset in the text of a display offset (inserted breaks before it do not count), and back
// (the last display offset with that text offset: after an inserted break, at the start of the
// next line, as typing at a wrap expects).
size_t text_offset(const Wrapped& w, size_t display_offset);
size_t display_offset(const Wrapped& w, size_t text_offset);

struct WrappedEdit {
  std::string text;   // the text after the edit
  size_t cursor = 0;  // in the text
};

// The text after the box turned display string `before` into `after` by one edit (typing,
// deleting, pasting, cutting) that left the cursor at display offset `cursor_after`;
// `cursor_before` is where it was before the edit. Breaks the user typed are hard; a Backspace
// or Delete that only removed an inserted break removes the character beyond it instead.
WrappedEdit apply_display_edit(const Wrapped& before, std::string_view after, size_t cursor_before, size_t cursor_after);

}  // namespace moescope::gui
