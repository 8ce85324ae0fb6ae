// json_file.cpp — file reading and JSON parsing with file-naming errors.
#include "engine/json_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope {

std::string read_text_file(const std::string& path, const std::string& what, size_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) fail(path, "cannot open " + what + ": " + std::strerror(ENOENT));
  if (std::filesystem::is_directory(status)) fail(path, "is a directory (expected a " + what + ")");
  if (!std::filesystem::is_regular_file(status)) fail(path, "is not a regular file (expected a " + what + ")");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes)
    fail_expected(path, what + " is too large", "at most " + std::to_string(max_bytes) + " bytes", std::to_string(size) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open " + what + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  return buf.str();
}

std::string read_utf8_text_file(const std::string& path, const std::string& what, size_t max_bytes) {
  std::string text = read_text_file(path, what, max_bytes);
  const size_t bad = detail::find_invalid_utf8(text);
  if (bad == std::string::npos) return text;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  if (text.size() >= 2 && ((byte(0) == 0xFF && byte(1) == 0xFE) || (byte(0) == 0xFE && byte(1) == 0xFF)))
    fail(path, "not UTF-8 text: it starts with a UTF-16 byte-order mark (moescope reads " + what +
                   "s as UTF-8; convert it first, e.g. iconv -f UTF-16 -t UTF-8)");
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < bad; ++i)
    if (text[i] == '\n') ++line, line_start = i + 1;
  // Column in characters: the line before the bad byte is valid UTF-8, so count lead bytes.
  size_t column = 1;
  for (size_t i = line_start; i < bad; ++i) column += (byte(i) & 0xC0) != 0x80;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", byte(bad));
  fail(path, "not UTF-8 text: byte " + std::to_string(bad) + " (" + hex + ") at line " + std::to_string(line) + ", column " +
                 std::to_string(column) + " is not valid UTF-8 (moescope reads " + what +
                 "s as UTF-8; convert it first, e.g. iconv -f WINDOWS-1252 -t UTF-8 for Western European text)");
}

nlohmann::json parse_json(const char* begin, const char* end, const std::string& source) {
  auto depth_guard = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth)
      fail(source, "not valid JSON (nested deeper than " + std::to_string(kMaxJsonDepth) + " levels)");
    return true;
  };
  try {
    return nlohmann::json::parse(begin, end, depth_guard);
  } catch (const nlohmann::json::exception& e) {
    // parse_error for bad syntax, but out_of_range (406) for a number past double's range (1e400).
    fail(source, "not valid JSON (" + std::string(e.what()) + ")");
  }
}

nlohmann::json parse_json(const std::string& text, const std::string& source) {
  return parse_json(text.data(), text.data() + text.size(), source);
}

std::string brief(const nlohmann::json& v) {
  if (v.is_array()) return "a list of " + std::to_string(v.size()) + " entries";
  if (v.is_object()) return "an object with " + std::to_string(v.size()) + " keys";
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 80 ? s.substr(0, 77) + "..." : s;
}

}  // namespace moescope
