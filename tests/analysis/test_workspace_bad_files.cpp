// test_workspace_bad_files.cpp — damaged or foreign workspace files are refused with an Error that
// names the file and what is wrong (never a crash or a leak). The inputs under
// tests/fuzz/regressions/workspace/ are what fuzz_workspace found; the others are edits of a
// fuzz seed made with SQL here.
#include <doctest/doctest.h>

#include <filesystem>

#include "analysis/trace_data.h"
#include "analysis/workspace.h"
#include "engine/error.h"
#include "tests/test_paths.h"

using namespace moescope;
using moescope::test::TempDir;

namespace {

// A copy in a scratch folder: opening a workspace writes to it (schema, WAL files).
std::string copy_of(const TempDir& dir, const std::string& repo_path) {
  const std::string dst = dir / std::filesystem::path(repo_path).filename().string();
  std::filesystem::copy_file(test::source_dir() + "/" + repo_path, dst);
  return dst;
}

std::string open_and_load_error(const std::string& path) {
  try {
    Workspace ws(path, false);
    load_trace(ws);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The 3-document fuzz seed with one SQL statement applied.
std::string seed_edited(const TempDir& dir, const std::string& sql) {
  const std::string path = copy_of(dir, "tests/fuzz/seeds/workspace/emo-shared-3docs.moescope");
  Workspace ws(path, false);
  ws.db().exec(sql);
  return path;
}

}  // namespace

TEST_CASE("workspace bad files: a file shorter than the SQLite magic is not a workspace (fuzz regression)") {
  // "SQLite format 3" without the NUL: the magic check once compared against a zero-filled buffer.
  TempDir dir("ws-bad-short");
  const std::string p = copy_of(dir, "tests/fuzz/regressions/workspace/short-magic-15-bytes.bin");
  CHECK(open_and_load_error(p) == p + ": not a moescope workspace (not an SQLite database)");
}

TEST_CASE("workspace bad files: the SQLite magic followed by garbage is an Error (fuzz regression)") {
  // The connection opened before the first PRAGMA failed was leaked (found by LeakSanitizer).
  TempDir dir("ws-bad-magic");
  const std::string p = copy_of(dir, "tests/fuzz/regressions/workspace/magic-then-zeros.bin");
  CHECK(open_and_load_error(p) == p + ": SQL failed (file is not a database): PRAGMA journal_mode=WAL");
}

TEST_CASE("workspace bad files: a layer layout without num_standard names the field (fuzz regression)") {
  TempDir dir("ws-bad-layout");
  const std::string p = copy_of(dir, "tests/fuzz/regressions/workspace/run-layer-missing-num_standard.moescope");
  CHECK(open_and_load_error(p) ==
        p + ": meta 'run': field 'layers[2].num_standard': missing (a damaged or foreign workspace?)");
}

TEST_CASE("workspace bad files: every part of meta 'run' is checked before use") {
  TempDir dir("ws-bad-run");
  const auto run_error = [&](const std::string& run_json) {
    const std::string p = seed_edited(dir, "UPDATE meta SET value = '" + run_json + "' WHERE key = 'run'");
    const std::string e = open_and_load_error(p);
    std::filesystem::remove(p);
    return e.substr(e.find(": meta 'run'") + 2);
  };
  CHECK(run_error("[]") == "meta 'run': bad run record (expected an object, found a list of 0 entries)");
  CHECK(run_error("{\"model\": 1}") == "meta 'run': field 'model': wrong type (expected an object, found 1)");
  const std::string model = R"("model": {"path": "m", "config_hash": "a", "weights_hash": "b"})";
  CHECK(run_error("{" + model + "}") == "meta 'run': field 'settings': missing (a damaged or foreign workspace?)");
  const std::string settings = R"("settings": {"max_tokens_per_doc": 6, "probs": false})";
  CHECK(run_error("{" + model + R"(, "settings": {"max_tokens_per_doc": -1, "probs": false}})") ==
        "meta 'run': field 'settings.max_tokens_per_doc': bad value (expected an integer in [0, 9223372036854775807], found -1)");
  CHECK(run_error("{" + model + ", " + settings + R"(, "layers": [{"layer": 0, "k": 0, "num_standard": 7}]})") ==
        "meta 'run': field 'layers[0].k': bad value (expected an integer in [1, 65536], found 0)");
  CHECK(run_error("{" + model + ", " + settings + R"(, "layers": {}})") ==
        "meta 'run': field 'layers': wrong type (expected a list, found an object with 0 keys)");
  CHECK(run_error("{\"model\": 1e400}").rfind("meta 'run': not valid JSON", 0) == 0);
}

TEST_CASE("workspace bad files: a record whose token count disagrees with its ids is refused") {
  TempDir dir("ws-bad-tokens");
  const std::string p = seed_edited(dir, "UPDATE records SET tokens = 5 WHERE doc_id = 2");
  CHECK(open_and_load_error(p) == p + ": document 2: record's token count does not match its ids (expected 5 ids, found 4)");
}

TEST_CASE("workspace bad files: a record blob that is not whole values names the column") {
  TempDir dir("ws-bad-blob");
  const std::string p = seed_edited(dir, "UPDATE records SET ids = x'000102' WHERE doc_id = 1");
  CHECK(open_and_load_error(p) == p + ": column 'ids': damaged record blob (expected a multiple of 4 bytes, found 3 bytes)");
}
