// json_file.h — reading small text/JSON files with errors that name the file (one place for
// config.json, tokenizer.json, index and subset files).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moescope {

// Whole file as bytes; `what` says what the file should be ("tokenizer file"). Only regular
// files up to max_bytes are read. Throws Error.
std::string read_text_file(const std::string& path, const std::string& what, size_t max_bytes = size_t(1) << 30);
// The same for a text a user gives to be routed (--file, the app's text box): it must be UTF-8.
// Otherwise Error "path: not UTF-8 text: byte B (0xNN) at line L, column C is not valid UTF-8
// (moescope reads text files as UTF-8; convert it first, ...)", naming UTF-16 when a byte-order mark says so.
std::string read_utf8_text_file(const std::string& path, const std::string& what, size_t max_bytes = size_t(1) << 30);
// Parses JSON text; a syntax error or nesting deeper than kMaxJsonDepth throws Error
// "source: not valid JSON (...)".
constexpr int kMaxJsonDepth = 64;
nlohmann::json parse_json(const std::string& text, const std::string& source);
nlohmann::json parse_json(const char* begin, const char* end, const std::string& source);
// A short description of a value for error messages: scalars as JSON, containers by size
// (a bad value may be huge or deeply nested, so it is never dumped whole).
std::string brief(const nlohmann::json& value);
inline nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  return parse_json(read_text_file(path, what), path);
}

}  // namespace moescope
