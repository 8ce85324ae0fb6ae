// json_file.cpp — file reading and JSON parsing with file-naming errors.
#include "engine/json_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace moescope {

std::string read_text_file(const std::string& path, const std::string& what) {
  if (std::filesystem::is_directory(path)) fail(path, "is a directory (expected a " + what + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open " + what + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) fail(path, "read error");
  return buf.str();
}

nlohmann::json parse_json(const std::string& text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(source, "not valid JSON (" + std::string(e.what()) + ")");
  }
}

}  // namespace moescope
