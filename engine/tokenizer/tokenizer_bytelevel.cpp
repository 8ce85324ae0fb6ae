// tokenizer_bytelevel.cpp — the GPT-2 bytes_to_unicode mapping, built from its definition:
// printable Latin-1 bytes stand for themselves, the other 68 take code points from U+0100 up.
#include "engine/tokenizer/tokenizer_bytelevel.h"

#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

struct Tables {
  std::array<std::string, 256> chars;
  std::array<int, 512> byte_of{};  // every byte character is below U+0144
  Tables() {
    byte_of.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      append_utf8(chars[b], cp);
      byte_of[cp] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_level_chars() { return tables().chars; }

int byte_level_byte(char32_t cp) { return cp < 512 ? tables().byte_of[cp] : -1; }

bool byte_level_to_bytes(std::string_view token, std::string& out) {
  size_t i = 0;
  while (i < token.size()) {
    size_t len = 0;
    const int b = byte_level_byte(decode_utf8(token, i, &len));
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
    i += len;
  }
  return true;
}

}  // namespace moescope::detail
