// unicode_utf8.h — strict UTF-8 decoding, validation and lossy repair for the tokenizer.
// Validation follows Unicode Table 3-7 (no overlongs, surrogates or code points past U+10FFFF),
// so the byte offset reported to the user is the start of the first ill-formed sequence.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace moescope::detail {

// Length of the well-formed sequence at s[i], or 0 if it is ill-formed. When ill-formed,
// *maximal_subpart (if given) receives the length of the longest prefix that could still have
// started a valid sequence (at least 1): the unit one U+FFFD replaces.
size_t utf8_sequence_length(std::string_view s, size_t i, size_t* maximal_subpart = nullptr);

// Offset of the first ill-formed sequence, or std::string_view::npos.
size_t find_invalid_utf8(std::string_view s);

// Throws moescope::Error "<what>: invalid UTF-8 at byte N".
void require_valid_utf8(std::string_view s, const std::string& what);

// Decodes the code point at s[i] of already-validated text and stores its byte length.
inline char32_t decode_utf8(std::string_view s, size_t i, size_t* len) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) { *len = 1; return c; }
  if (c < 0xE0) { *len = 2; return (char32_t(c & 0x1F) << 6) | (b(1) & 0x3F); }
  if (c < 0xF0) { *len = 3; return (char32_t(c & 0x0F) << 12) | (char32_t(b(1) & 0x3F) << 6) | (b(2) & 0x3F); }
  *len = 4;
  return (char32_t(c & 0x07) << 18) | (char32_t(b(1) & 0x3F) << 12) | (char32_t(b(2) & 0x3F) << 6) |
         (b(3) & 0x3F);
}

// Byte length of the sequence whose lead byte is c (valid text only).
inline size_t utf8_length_from_lead(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

void append_utf8(std::string& out, char32_t cp);

// Like Rust's String::from_utf8_lossy: each maximal ill-formed subpart becomes U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// Unicode White_Space (what Rust's char::is_whitespace and Oniguruma's Unicode \s accept).
bool is_unicode_whitespace(char32_t cp);

// Approximation of Rust regex \w (letters, marks, decimal digits, connector punctuation,
// joiners); used only for the single_word flag of added tokens.
bool is_word_char(char32_t cp);

}  // namespace moescope::detail
