// pretokenizer_regex.cpp — PCRE2 (JIT when available) for the pre-tokenizer regexes.
// Each thread keeps its own match data and JIT stack; the compiled code is shared read-only.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "engine/tokenizer/pretokenizer_regex.h"

#include <pcre2.h>

#include "engine/error.h"
#include "engine/tokenizer/unicode_utf8.h"

namespace moescope::detail {
namespace {

// Oniguruma's Unicode \w: letters, marks, decimal digits, connector punctuation.
constexpr const char* kWordClassBody = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

struct ThreadMatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* jit_stack = nullptr;
  ThreadMatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    // Long whitespace runs backtrack through \s+(?!\S); the default 32 KiB JIT stack is too small.
    jit_stack = pcre2_jit_stack_create(64 * 1024, 8 * 1024 * 1024, nullptr);
    if (jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    if (jit_stack) pcre2_jit_stack_free(jit_stack);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

std::string translate_regex(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 32);
  int class_depth = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      const bool in_class = class_depth > 0;
      switch (e) {
        case 's': out += "\\p{White_Space}"; ++i; continue;
        case 'S': out += "\\P{White_Space}"; ++i; continue;
        case 'w':
          out += in_class ? std::string(kWordClassBody) : "[" + std::string(kWordClassBody) + "]";
          ++i;
          continue;
        case 'W':
          if (!in_class) { out += "[^" + std::string(kWordClassBody) + "]"; ++i; continue; }
          break;  // no PCRE2 spelling inside a class; PCRE2's own \W is close
        case 'h': out += in_class ? "0-9a-fA-F" : "[0-9a-fA-F]"; ++i; continue;      // Ruby: hex digit
        case 'H': if (!in_class) { out += "[^0-9a-fA-F]"; ++i; continue; } break;
        case 'v': out += "\\x{0B}"; ++i; continue;                                    // Ruby: vertical tab
        default: break;
      }
      // Copy the escape and the whole (possibly multi-byte) character it escapes.
      out += c;
      size_t len = utf8_length_from_lead(static_cast<unsigned char>(e));
      out.append(p.substr(i + 1, len));
      i += len;
      continue;
    }
    if (c == '[') {
      if (class_depth > 0 && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX [:alpha:]
        const size_t close = p.find(":]", i + 2);
        if (close != std::string_view::npos) {
          out.append(p.substr(i, close + 2 - i));
          i = close + 1;
          continue;
        }
      }
      ++class_depth;
      out += c;
      // A ']' right after '[' or '[^' is a literal in both dialects.
      if (i + 1 < p.size() && p[i + 1] == '^') { out += '^'; ++i; }
      if (i + 1 < p.size() && p[i + 1] == ']') { out += "\\]"; ++i; }
      continue;
    }
    if (c == ']' && class_depth > 0) --class_depth;
    out += c;
  }
  return out;
}

std::string escape_regex_literal(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    const unsigned char u = static_cast<unsigned char>(c);
    const bool plain = u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!plain) out += '\\';
    out += c;
  }
  return out;
}

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

Regex::Regex(const std::string& pattern, const std::string& where) : code_(std::make_unique<Code>()) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  // \C matches one byte even in UTF mode: it would cut characters apart, and everything after the
  // pre-tokenizers (BPE symbols, offsets) relies on pieces being whole UTF-8 characters.
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NEVER_BACKSLASH_C, &error,
                              &error_offset, nullptr);
  if (!code_->code) {
    fail(where, "regex does not compile with PCRE2: " + pcre2_message(error) + " at offset " +
                    std::to_string(error_offset) + " of '" + pattern + "'");
  }
  pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if absent
}

Regex::~Regex() = default;

void Regex::find_all(std::string_view subject, std::vector<std::pair<size_t, size_t>>& out) const {
  ThreadMatchState& st = thread_state();
  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data());
  const size_t n = subject.size();
  size_t pos = 0;
  bool have_last = false;
  size_t last_end = 0;
  while (pos <= n) {
    const int rc = pcre2_match(code_->code, data, n, pos, PCRE2_NO_UTF_CHECK, st.data, st.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("tokenizer regex", "PCRE2 match failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    const size_t b = ov[0], e = ov[1];
    if (b == e && have_last && e == last_end) {
      // Like the onig crate: an empty match touching the previous match is skipped by moving
      // one character on.
      if (pos >= n) break;
      pos += utf8_length_from_lead(static_cast<unsigned char>(subject[pos]));
      continue;
    }
    out.emplace_back(b, e);
    have_last = true;
    last_end = e;
    pos = e;
  }
}

}  // namespace moescope::detail
