// fuzz_corpus.cpp — read_corpus (analysis/corpus.h) on a JSONL file holding arbitrary bytes.
// A bug: anything but moescope::Error escaping, a sanitizer report, or an accepted corpus that
// breaks the reader's promises: at least one document, every text / domain / lang / id valid
// UTF-8 (they go into SQLite and JSON output), every id non-empty.
#include "analysis/corpus.h"
#include "engine/error.h"
#include "engine/tokenizer/unicode_utf8.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using moescope::fuzz::bug;
  const std::string& path = moescope::fuzz::scratch_path("corpus.jsonl");
  moescope::fuzz::write_scratch(path, data, size);
  try {
    const auto docs = moescope::read_corpus(path);
    if (docs.empty()) bug("an empty corpus was accepted");
    for (const moescope::CorpusDocument& d : docs) {
      if (d.id.empty()) bug("a document without id");
      for (const std::string* s : {&d.id, &d.domain, &d.lang, &d.text})
        if (moescope::detail::find_invalid_utf8(*s) != std::string::npos) bug("invalid UTF-8 in an accepted document");
    }
  } catch (const moescope::Error&) {
  }
  return 0;
}
