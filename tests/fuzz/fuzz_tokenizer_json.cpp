// fuzz_tokenizer_json.cpp — Tokenizer::from_json_text (engine/tokenizer/tokenizer.h) on arbitrary bytes:
// the tokenizer.json loader, then encode/decode of a few fixed texts with whatever it accepted
// (so accepted regexes, normalizers, merges and added tokens are run, not only parsed).
// A bug: anything but moescope::Error escaping, a sanitizer report, or an Encoding that breaks
// tokenizer_checks.h (ids in the vocabulary, offsets inside the text).
#include "engine/error.h"
#include "engine/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/fuzz/tokenizer_checks.h"

namespace {

// ASCII, whitespace runs, NFC-sensitive text, CJK, an emoji (4-byte), a common special token.
constexpr std::string_view kProbes[] = {
    "Hello world, it's 2024!", "  a\n\n\tb  ", "e\xCC\x81t\xC3\xA9", "\xE6\x95\xB0\xE5\xAD\x97 \xF0\x9F\xA4\x96",
    "<|endoftext|>x<|endoftext|>", "",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const moescope::Tokenizer tok =
        moescope::Tokenizer::from_json_text(std::string(moescope::fuzz::as_text(data, size)), "tokenizer.json");
    for (std::string_view text : kProbes) {
      const moescope::Encoding enc = tok.encode(text);
      moescope::fuzz::check_encoding(tok, text, enc, "probe '" + std::string(text) + "'");
      (void)tok.decode(enc.ids);
      (void)tok.decode(enc.ids, true);
    }
  } catch (const moescope::Error&) {
  }
  return 0;
}
