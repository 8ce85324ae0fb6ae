// test_corpus.cpp — reading labelled corpora and scoring them document by document.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "analysis/corpus.h"
#include "analysis/corpus_scoring.h"
#include "engine/error.h"
#include "engine/model.h"
#include "tests/test_paths.h"

using namespace moescope;
using moescope::test::TempDir;

namespace {
void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string error_of(const std::string& path) {
  try {
    read_corpus(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("corpus: JSONL with labels, ids and blank lines") {
  TempDir dir("corpus-jsonl");
  write(dir / "c.jsonl",
        "{\"text\": \"alpha beta\", \"domain\": \"code\", \"lang\": \"en\", \"id\": 7}\n"
        "\n"
        "{\"text\": \"gamma\", \"domain\": \"law\"}\r\n"
        "{\"text\": \"\\u00e9t\\u00e9\"}");
  const auto docs = read_corpus(dir / "c.jsonl");
  REQUIRE(docs.size() == 3);
  CHECK(docs[0].id == "7");
  CHECK(docs[0].domain == "code");
  CHECK(docs[0].lang == "en");
  CHECK(docs[1].id == "line 3");
  CHECK(docs[1].text == "gamma");
  CHECK(docs[2].domain.empty());
  CHECK(docs[2].text == "\xc3\xa9t\xc3\xa9");
}

TEST_CASE("corpus: a folder with one sub-folder per domain") {
  TempDir dir("corpus-folder");
  std::filesystem::create_directories(dir / "bio");
  std::filesystem::create_directories(dir / "art/sub");
  write(dir / "bio/b.txt", "cells");
  write(dir / "bio/a.txt", "genes");
  write(dir / "bio/notes.md", "ignored: not .txt");
  write(dir / "art/sub/c.txt", "paint");
  const auto docs = read_corpus(dir.str());
  REQUIRE(docs.size() == 3);
  CHECK(docs[0].id == "art/sub/c.txt");
  CHECK(docs[0].domain == "art");
  CHECK(docs[1].id == "bio/a.txt");
  CHECK(docs[2].text == "cells");
}

TEST_CASE("corpus: bad input names the file, line and field") {
  TempDir dir("corpus-bad");
  write(dir / "json.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"cut\n");
  CHECK(error_of(dir / "json.jsonl").find("json.jsonl: line 2: not valid JSON") != std::string::npos);
  write(dir / "missing.jsonl", "{\"domain\": \"x\"}\n");
  CHECK(error_of(dir / "missing.jsonl").find("line 1: has no 'text' field") != std::string::npos);
  write(dir / "type.jsonl", "{\"text\": 3}\n");
  CHECK(error_of(dir / "type.jsonl").find("field 'text': wrong type (expected a string") != std::string::npos);
  write(dir / "domain.jsonl", "{\"text\": \"a\", \"domain\": [1]}\n");
  CHECK(error_of(dir / "domain.jsonl").find("field 'domain': wrong type") != std::string::npos);
  write(dir / "array.jsonl", "[1, 2]\n");
  CHECK(error_of(dir / "array.jsonl").find("line 1: not a JSON object") != std::string::npos);
  write(dir / "empty.jsonl", "\n\n");
  CHECK(error_of(dir / "empty.jsonl").find("corpus has no documents") != std::string::npos);
  CHECK(error_of(dir / "nothing-here").find("no such file or folder") != std::string::npos);
  std::filesystem::create_directories(dir / "flat");
  write(dir / "flat/a.txt", "no domain folder");
  CHECK(error_of(dir / "flat").find("no domain sub-folders") != std::string::npos);
  std::filesystem::create_directories(dir / "utf/d");
  write(dir / "utf/d/x.txt", "ok \xff bad");
  CHECK(error_of(dir / "utf").find("invalid UTF-8 at byte 3") != std::string::npos);
}

TEST_CASE("corpus scoring: per-document sums equal separate forwards; domains and bits per byte add up") {
  const auto model = Model::load(test::fixtures_dir() + "/models/emo-shared");
  const Tokenizer& tok = *model->tokenizer();
  std::vector<CorpusDocument> docs = {
      {"a", "x", "", "the quick brown fox jumps over the lazy dog"},
      {"b", "y", "", "ab"},
      {"c", "x", "", "pack my box with five dozen liquor jugs, then more text"},
      {"d", "y", "", "z"},  // likely a single token: skipped
  };
  CorpusScoreOptions opt;
  opt.batch_tokens = 20;  // forces several batches
  const CorpusScore s = score_corpus(*model, docs, opt);
  double total_nll = 0, total_bytes = 0;
  size_t scored = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    const Encoding enc = tok.encode(docs[i].text);
    if (enc.ids.size() < 2) {
      CHECK(s.documents[i].documents == 0);
      continue;
    }
    ++scored;
    // The reference: this document alone in its own forward.
    const ForwardResult r = model->forward({enc.ids}, ForwardOptions{});
    double nll = 0;
    for (size_t t = 0; t + 1 < enc.ids.size(); ++t) nll += r.nll[t];
    CHECK(s.documents[i].nll == doctest::Approx(nll).epsilon(1e-5));
    CHECK(s.documents[i].predicted == enc.ids.size() - 1);
    const double bytes = double(enc.offsets.back().second - enc.offsets[1].first);
    CHECK(s.documents[i].bytes == bytes);
    total_nll += nll;
    total_bytes += bytes;
  }
  CHECK(s.skipped == docs.size() - scored);
  CHECK(s.total.documents == scored);
  CHECK(s.total.nll == doctest::Approx(total_nll).epsilon(1e-5));
  CHECK(s.total.bits_per_byte() == doctest::Approx(total_nll / (total_bytes * std::log(2.0))).epsilon(1e-5));
  REQUIRE(s.domains.size() == 2);
  CHECK(s.domains[0].domain == "x");
  CHECK(s.domains[0].totals.nll == doctest::Approx(s.documents[0].nll + s.documents[2].nll));

  opt.max_tokens_per_doc = 3;
  const CorpusScore cut = score_corpus(*model, docs, opt);
  CHECK(cut.documents[0].tokens == 3);
  CHECK(cut.documents[0].predicted == 2);
  CHECK(cut.truncated >= 2);
}
