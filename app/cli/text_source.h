// text_source.h — the text a command works on: --text T or --file F (exactly one), read whole.
#pragma once

#include <string>

#include "app/cli/args.h"

namespace moescope::cli {

struct TextSource {
  std::string text;
  std::string label;  // "--text" or the file path, for error messages
};

// UsageError unless exactly one of --text and --file is given.
void check_text_choice(const Args& args);

// Throws Error when neither or both are given, the file cannot be read, the text is empty or has
// more than max_bytes bytes (`limit` says where that bound comes from, for the message).
TextSource read_text_source(const Args& args, size_t max_bytes = size_t(1) << 30, const std::string& limit = "");

}  // namespace moescope::cli
