// pretokenizer_regex.h — the regexes of Split / ByteLevel pre-tokenizers, run with PCRE2. HF runs
// them with Oniguruma (Ruby syntax); translate_regex respells what differs (\s, \w, \h, \v) and
// find_all iterates like the onig crate (no empty match right after the previous match).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moescope::detail {

// Oniguruma/Ruby pattern → PCRE2 pattern (compiled with PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE).
std::string translate_regex(std::string_view onig_pattern);
// A literal string as a PCRE2 pattern.
std::string escape_regex_literal(std::string_view literal);

class Regex {
 public:
  // where names the field for errors ("tokenizer.json: pre_tokenizer.pattern.Regex").
  Regex(const std::string& pcre2_pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends every match [begin, end) in subject (valid UTF-8), offsets relative to subject.
  void find_all(std::string_view subject, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
};

}  // namespace moescope::detail
