// text_source.cpp — reading --text / --file input for moescope-cli.
#include "app/cli/text_source.h"

#include <filesystem>

#include "engine/error.h"
#include "engine/json_file.h"

namespace moescope::cli {

TextSource read_text_source(const Args& args) {
  auto text = args.get("text");
  auto file = args.get("file");
  if (text && file) fail("input", "give either --text or --file, not both");
  if (!text && !file) fail("input", "give the text with --text T or --file F");
  TextSource src;
  if (text) {
    src.text = *text;
    src.label = "--text";
  } else {
    src.label = *file;
    src.text = read_text_file(*file, "text file");
  }
  if (src.text.empty()) fail(src.label, "the text is empty (expected at least one character)");
  return src;
}

}  // namespace moescope::cli
