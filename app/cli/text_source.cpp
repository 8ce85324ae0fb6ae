// text_source.cpp — reading --text / --file input for moescope-cli.
#include "app/cli/text_source.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope::cli {

namespace {

[[noreturn]] void too_large(const std::string& label, size_t max_bytes, const std::string& limit, uintmax_t found) {
  std::string expected = "at most ";
  expected += std::to_string(max_bytes);
  expected += " bytes";
  if (!limit.empty()) expected += " (" + limit + ")";
  fail_expected(label, "text is too large", expected, std::to_string(found) + " bytes");
}

}  // namespace

void check_text_choice(const Args& args) {
  const bool text = args.get("text").has_value(), file = args.get("file").has_value();
  if (text && file) usage_fail("input", "give either --text or --file, not both");
  if (!text && !file) usage_fail("input", "give the text with --text T or --file F");
}

TextSource read_text_source(const Args& args, size_t max_bytes, const std::string& limit) {
  check_text_choice(args);
  auto text = args.get("text");
  auto file = args.get("file");
  TextSource src;
  if (text) {
    src.label = "--text";
    if (text->size() > max_bytes) too_large(src.label, max_bytes, limit, text->size());
    src.text = *text;
  } else {
    src.label = *file;
    std::error_code ec;  // a file that cannot be sized is left to read_text_file's errors
    if (const auto size = std::filesystem::file_size(*file, ec); !ec && size > max_bytes)
      too_large(src.label, max_bytes, limit, size);
    src.text = read_utf8_text_file(*file, "text file", max_bytes);
  }
  if (src.text.empty()) fail(src.label, "the text is empty (expected at least one character)");
  return src;
}

}  // namespace moescope::cli
