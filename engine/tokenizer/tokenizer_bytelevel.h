// tokenizer_bytelevel.h — GPT-2's byte↔character table used by byte-level BPE vocabularies:
// every byte is written as one printable character ("Ġ" for the space byte, and so on).
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace moescope::detail {

// UTF-8 of the character that stands for each byte.
const std::array<std::string, 256>& byte_level_chars();

// The byte a character stands for, or -1 if it is not one of the 256 byte characters.
int byte_level_byte(char32_t cp);

// Raw bytes of a byte-level token string; false if some character is not a byte character.
bool byte_level_to_bytes(std::string_view token, std::string& out);

}  // namespace moescope::detail
