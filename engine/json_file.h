// json_file.h — reading small text/JSON files with errors that name the file (one place for
// config.json, tokenizer.json, index and subset files).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moescope {

// Whole file as bytes; `what` says what the file should be ("tokenizer file"). Throws Error.
std::string read_text_file(const std::string& path, const std::string& what);
// Parses JSON text; a syntax error throws Error "source: not valid JSON (...)".
nlohmann::json parse_json(const std::string& text, const std::string& source);
inline nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  return parse_json(read_text_file(path, what), path);
}

}  // namespace moescope
