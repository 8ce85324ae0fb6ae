// The text box's word wrap (app/gui/soft_wrap.*), with every glyph 1 unit wide so the expected
// lines are worked out by hand.
#include <doctest/doctest.h>

#include "app/gui/soft_wrap.h"

using namespace moescope::gui;

namespace {

float one(std::string_view) { return 1.f; }

Wrapped wrap(std::string_view text, float width) { return soft_wrap(text, width, one); }

// Types `typed` at display offset `at` of w (what InputText does), then maps the edit back.
WrappedEdit type_at(const Wrapped& w, size_t at, const std::string& typed) {
  std::string after = w.display;
  after.insert(at, typed);
  return apply_display_edit(w, after, at, at + typed.size());
}

}  // namespace

TEST_CASE("soft_wrap: breaks at the last space that fits, keeps hard newlines") {
  const Wrapped w = wrap("the cat sat on the mat", 10);
  // "the cat " fits 8, "sat" would reach 11: the space after "cat" becomes the break.
  CHECK(w.display == "the cat\nsat on the\nmat");
  CHECK(w.kind[7] == SoftBreak::SpaceShown);
  CHECK(w.kind[18] == SoftBreak::SpaceShown);
  CHECK(unwrap(w.display, w.kind) == "the cat sat on the mat");
  const Wrapped hard = wrap("ab\ncd ef", 4);
  CHECK(hard.display == "ab\ncd\nef");
  CHECK(hard.kind[2] == SoftBreak::None);
  CHECK(hard.kind[5] == SoftBreak::SpaceShown);
  CHECK(wrap("short", 10).display == "short");
  CHECK(wrap("", 10).display.empty());
}

TEST_CASE("soft_wrap: a line with no space breaks inside, between UTF-8 characters") {
  // Six CJK characters (3 bytes each), four to a line: a break is inserted before the fifth.
  const std::string text = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0";
  const Wrapped w = wrap(text, 4);
  REQUIRE(w.display.size() == text.size() + 1);
  CHECK(w.display.substr(0, 12) == text.substr(0, 12));
  CHECK(w.display[12] == '\n');
  CHECK(w.kind[12] == SoftBreak::Inserted);
  CHECK(unwrap(w.display, w.kind) == text);
  // A word longer than the line after a space: first the space breaks, then the word itself.
  const Wrapped long_word = wrap("ab cdefgh", 4);
  CHECK(long_word.display == "ab\ncdef\ngh");
  CHECK(long_word.kind[2] == SoftBreak::SpaceShown);
  CHECK(long_word.kind[7] == SoftBreak::Inserted);
  CHECK(unwrap(long_word.display, long_word.kind) == "ab cdefgh");
}

TEST_CASE("soft_wrap: trailing spaces hang past the width") {
  const Wrapped w = wrap("abc    de", 4);
  // The last space before "de" breaks; the others stay on the first line.
  CHECK(w.display == "abc   \nde");
  CHECK(w.kind[6] == SoftBreak::SpaceShown);
}

TEST_CASE("soft_wrap: text and display offsets map both ways") {
  const Wrapped w = wrap("abcdefgh", 3);  // "abc\ndef\ngh", two inserted breaks
  REQUIRE(w.display == "abc\ndef\ngh");
  CHECK(text_offset(w, 0) == 0);
  CHECK(text_offset(w, 3) == 3);
  CHECK(text_offset(w, 4) == 3);  // after the first break
  CHECK(text_offset(w, 10) == 8);
  CHECK(display_offset(w, 3) == 4);  // at the start of the next line, not the end of this one
  CHECK(display_offset(w, 2) == 2);
  CHECK(display_offset(w, 8) == 10);
  CHECK(display_offset(w, 99) == 10);
}

TEST_CASE("apply_display_edit: typing, also right beside a soft break") {
  const Wrapped w = wrap("the cat sat", 8);  // "the cat\nsat"
  REQUIRE(w.display == "the cat\nsat");
  WrappedEdit e = type_at(w, 3, "X");
  CHECK(e.text == "theX cat sat");
  CHECK(e.cursor == 4);
  // Enter typed just before the soft break: a hard newline there, the space stays a space.
  e = type_at(w, 7, "\n");
  CHECK(e.text == "the cat\n sat");
  CHECK(e.cursor == 8);
  // Typed just after it: at the start of "sat".
  e = type_at(w, 8, "a ");
  CHECK(e.text == "the cat a sat");
  CHECK(e.cursor == 10);
  // Pasted text with newlines keeps them as typed.
  e = type_at(w, 11, " on\nthe mat");
  CHECK(e.text == "the cat sat on\nthe mat");
}

TEST_CASE("apply_display_edit: Backspace over a shown space joins the words") {
  const Wrapped w = wrap("the cat sat", 8);
  std::string after = w.display;
  after.erase(7, 1);  // Backspace at the start of "sat"
  const WrappedEdit e = apply_display_edit(w, after, 8, 7);
  CHECK(e.text == "the catsat");
  CHECK(e.cursor == 7);
}

TEST_CASE("apply_display_edit: Backspace or Delete over an inserted break removes the character beyond") {
  const Wrapped w = wrap("abcdefgh", 3);  // "abc\ndef\ngh"
  std::string after = w.display;
  after.erase(3, 1);
  const WrappedEdit back = apply_display_edit(w, after, 4, 3);  // Backspace at the start of "def"
  CHECK(back.text == "abdefgh");
  CHECK(back.cursor == 2);
  const WrappedEdit del = apply_display_edit(w, after, 3, 3);  // Delete at the end of "abc"
  CHECK(del.text == "abcefgh");
  CHECK(del.cursor == 3);
  // A multi-byte character before the break goes whole.
  const Wrapped u = wrap("a\xc3\xa9z", 2);  // "aé\nz"
  REQUIRE(u.display == "a\xc3\xa9\nz");
  std::string u_after = u.display;
  u_after.erase(3, 1);
  const WrappedEdit ub = apply_display_edit(u, u_after, 4, 3);
  CHECK(ub.text == "az");
  CHECK(ub.cursor == 1);
}

TEST_CASE("apply_display_edit: a selection replaced across soft breaks") {
  const Wrapped w = wrap("one two three four", 9);  // "one two\nthree\nfour"
  REQUIRE(w.display == "one two\nthree\nfour");
  // Select from "two" to "thr" (display 4..11) and type "2": the replaced span held a shown space.
  const std::string after = "one 2ee\nfour";  // display[0, 4) + "2" + display[11, end)
  REQUIRE(after == w.display.substr(0, 4) + "2" + w.display.substr(11));
  const WrappedEdit e = apply_display_edit(w, after, 11, 5);
  CHECK(e.text == "one 2ee four");
  CHECK(e.cursor == 5);
  // Re-wrapping the edited text and mapping its cursor back lands after the "2".
  const Wrapped again = wrap(e.text, 9);
  CHECK(again.display == "one 2ee\nfour");
  CHECK(display_offset(again, e.cursor) == 5);
}
