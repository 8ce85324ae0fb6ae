// Nothing lost: `moescope-cli trace` and the exports SIGKILLed at random moments, a full disk and a
// read-only destination. The workspace is checked with SQLite's own integrity check and plain SQL
// (not through moescope's Workspace class); exports are compared byte for byte with a run that
// was never interrupted.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "tests/child_process.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using namespace moescope::test;

namespace {

const std::string kModel = source_dir() + "/samples/models/emo-sample";

// Every 25th held-out document (all domains), 48 in all.
std::string write_corpus(const std::string& path) {
  std::ifstream in(source_dir() + "/samples/corpus/heldout.jsonl");
  std::ofstream out(path);
  std::string line;
  for (int i = 0, n = 0; std::getline(in, line) && n < 48; ++i)
    if (i % 25 == 0) {
      out << line << "\n";
      ++n;
    }
  return path;
}

std::vector<std::string> trace_argv(const std::string& corpus, const std::string& ws) {
  // Small batches: many commits, so a kill lands between, inside and during them.
  return {cli_path(), "trace", "--model", kModel, "--corpus", corpus, "--workspace", ws, "--batch-tokens", "1024",
          "--max-tokens-per-doc", "256", "--threads", "1"};
}

// What a workspace holds, read with plain SQL.
struct WorkspaceState {
  std::string integrity;                   // PRAGMA integrity_check: "ok"
  int64_t fk_violations = 0;               // rows of PRAGMA foreign_key_check
  int64_t documents = 0, positions = 0;    // rows and distinct positions in documents
  std::map<int64_t, std::string> ids;      // position -> ids blob of its record
  bool tokens_match_blobs = true;          // records.tokens == ids blob length / 4
};

WorkspaceState read_state(const std::string& path) {
  WorkspaceState s;
  sqlite3* db = nullptr;
  REQUIRE_MESSAGE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK, path);
  auto each = [&](const char* sql, auto&& row) {
    sqlite3_stmt* st = nullptr;
    const bool prepared = sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK;
    INFO(sql, ": ", sqlite3_errmsg(db));
    REQUIRE(prepared);
    while (sqlite3_step(st) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
  };
  each("PRAGMA integrity_check", [&](sqlite3_stmt* st) {
    s.integrity += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  });
  each("PRAGMA foreign_key_check", [&](sqlite3_stmt*) { ++s.fk_violations; });
  // An interrupted first run may stop before the schema exists: that is an empty workspace.
  bool has_schema = false;
  each("SELECT count(*) FROM sqlite_master WHERE name IN ('documents', 'records')",
       [&](sqlite3_stmt* st) { has_schema = sqlite3_column_int(st, 0) == 2; });
  if (has_schema) {
    each("SELECT count(*), count(DISTINCT position) FROM documents", [&](sqlite3_stmt* st) {
      s.documents = sqlite3_column_int64(st, 0);
      s.positions = sqlite3_column_int64(st, 1);
    });
    each("SELECT d.position, r.tokens, r.ids FROM records r JOIN documents d ON d.id = r.doc_id", [&](sqlite3_stmt* st) {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(st, 2));
      const int n = sqlite3_column_bytes(st, 2);
      s.ids[sqlite3_column_int64(st, 0)] = std::string(p ? p : "", size_t(n));
      if (sqlite3_column_int64(st, 1) * 4 != n) s.tokens_match_blobs = false;
    });
  }
  sqlite3_close(db);
  return s;
}

// The invariants after any interruption: a sound database whose records are a subset of the
// reference's, each document once, each record's token ids exactly the reference's.
void check_consistent(const WorkspaceState& s, const WorkspaceState& ref, const std::string& when) {
  INFO(when);
  CHECK(s.integrity == "ok");
  CHECK(s.fk_violations == 0);
  CHECK(s.documents == s.positions);
  CHECK((s.documents == 0 || s.documents == ref.documents));
  CHECK(s.tokens_match_blobs);
  for (const auto& [pos, ids] : s.ids) {
    REQUIRE_MESSAGE(ref.ids.count(pos), "record for unknown position ", pos);
    CHECK_MESSAGE(ids == ref.ids.at(pos), "token ids of the document at position ", pos);
  }
}

unsigned test_seed() {
  if (const char* s = std::getenv("MOESCOPE_TEST_SEED")) return unsigned(std::strtoul(s, nullptr, 10));
  return std::random_device{}();
}

double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs argv, SIGKILLs it after `delay` seconds unless it finished; true when it finished by itself.
bool run_and_kill(const std::vector<std::string>& argv, double delay, int* code) {
  const pid_t pid = start_child(argv);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(delay);
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ::kill(pid, SIGKILL);
  *code = wait_child(pid);
  return *code != 128 + SIGKILL;
}

// Files (relative path -> bytes) under a folder, or the file itself.
std::map<std::string, std::string> contents(const std::string& path) {
  std::map<std::string, std::string> out;
  if (fs::is_regular_file(path)) {
    out[""] = read_text(path);
    return out;
  }
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) out[fs::relative(e.path(), path).string()] = read_text(e.path().string());
  return out;
}

// Names in dir starting with `stem` other than stem itself (temp files and folders left behind).
std::vector<std::string> leftovers(const std::string& dir, const std::string& stem) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != stem && name.rfind(stem, 0) == 0) out.push_back(name);
  }
  return out;
}

std::string keep_first_8(const std::string& path) {
  std::ofstream(path) << R"({"experts_kept_per_layer": [[0,1,2,3,4,5,6,7],[0,1,2,3,4,5,6,7],[0,1,2,3,4,5,6,7],[0,1,2,3,4,5,6,7]]})";
  return path;
}

}  // namespace

TEST_CASE("trace SIGKILLed at random moments resumes with every committed document exactly once") {
  TempDir tmp("crash-trace");
  const std::string corpus = write_corpus(tmp / "corpus.jsonl");
  const std::string ref_ws = tmp / "ref.moescope";
  int code = -1;
  const double full = seconds_of([&] { code = run_child(trace_argv(corpus, ref_ws)); });
  REQUIRE(code == 0);
  const WorkspaceState ref = read_state(ref_ws);
  REQUIRE(ref.integrity == "ok");
  REQUIRE(ref.documents == 48);
  REQUIRE(ref.ids.size() == 48);

  const unsigned seed = test_seed();
  INFO("MOESCOPE_TEST_SEED=", seed);
  std::mt19937 rng(seed);
  // Kill points spread over the whole run: model loading, tokenizing, forwards, commits. A run
  // that finishes first shows how long a whole run takes now (the reference paid for cold caches).
  double longest = full * 1.1;
  const std::string ws = tmp / "ws.moescope";
  size_t before = 0, kills = 0, completions = 0;
  for (int round = 0; kills < 12 && round < 40; ++round) {
    const double delay = std::uniform_real_distribution<double>(0.0, longest)(rng);
    const auto t0 = std::chrono::steady_clock::now();
    const bool finished = run_and_kill(trace_argv(corpus, ws), delay, &code);
    if (finished) {
      CHECK(code == 0);
      ++completions;
      longest = std::min(longest, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    } else {
      ++kills;
    }
    if (!fs::exists(ws)) {
      CHECK(before == 0);  // killed before the file was created
      continue;
    }
    const WorkspaceState s = read_state(ws);
    check_consistent(s, ref, "round " + std::to_string(round) + ", killed after " + std::to_string(delay) + " s");
    CHECK_MESSAGE(s.ids.size() >= before, "committed documents were lost in round ", round);
    before = s.ids.size();
    if (finished) {
      CHECK(s.ids == ref.ids);
      // Start over so later rounds interrupt early stages again.
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(ws + suffix);
      before = 0;
    }
  }
  CHECK(kills == 12);
  // The last resume finishes the corpus: exactly the reference's documents, each once.
  REQUIRE(run_child(trace_argv(corpus, ws)) == 0);
  const WorkspaceState last = read_state(ws);
  check_consistent(last, ref, "after the final resume");
  CHECK(last.ids == ref.ids);
  MESSAGE(kills, " kills, ", completions, " runs finished before their kill (seed ", seed, ")");
}

TEST_CASE("exports SIGKILLed at random moments leave either nothing or the complete output") {
  TempDir tmp("crash-export");
  const std::string keep = keep_first_8(tmp / "keep.json");
  const std::string corpus = write_corpus(tmp / "corpus.jsonl");
  REQUIRE(run_child(trace_argv(corpus, tmp / "ws.moescope")) == 0);

  struct Export {
    std::string name;
    std::function<std::vector<std::string>(const std::string& out)> argv;
  };
  const std::vector<Export> exports = {
      {"pruned", [&](const std::string& out) {
         return std::vector<std::string>{cli_path(), "subset", "export", "--model", kModel, "--keep", keep, "--out", out};
       }},
      {"subset.json", [&](const std::string& out) {
         return std::vector<std::string>{cli_path(), "subset", "select", "--workspace", tmp / "ws.moescope", "--domain",
                                         "code_python", "--experts", "8", "--out", out};
       }},
      {"heatmap.png", [&](const std::string& out) {
         return std::vector<std::string>{cli_path(), "render", "--workspace", tmp / "ws.moescope", "--what",
                                         "domain-heatmap", "--layer", "1", "--out", out};
       }},
  };
  const unsigned seed = test_seed();
  INFO("MOESCOPE_TEST_SEED=", seed);
  std::mt19937 rng(seed);
  for (const Export& ex : exports) {
    INFO(ex.name);
    const std::string dir = tmp / ("out-" + ex.name);
    fs::create_directories(dir);
    const std::string ref_path = tmp / ("ref-" + ex.name);
    int code = -1;
    const double full = seconds_of([&] { code = run_child(ex.argv(ref_path)); });
    REQUIRE(code == 0);
    const auto ref = contents(ref_path);
    REQUIRE_FALSE(ref.empty());
    std::uniform_real_distribution<double> when(0.0, full * 1.2);
    const std::string out = dir + "/" + ex.name;
    for (int round = 0; round < 10; ++round) {
      const bool finished = run_and_kill(ex.argv(out), when(rng), &code);
      INFO("round ", round, finished ? " (finished)" : " (killed)");
      if (fs::exists(out)) {
        CHECK(contents(out) == ref);  // never a partial file under the final name
        fs::remove_all(out);
      } else {
        CHECK_FALSE(finished);
      }
    }
    // A finished run cleans up what killed runs left beside the output.
    REQUIRE(run_child(ex.argv(out)) == 0);
    CHECK(contents(out) == ref);
    CHECK(leftovers(dir, ex.name) == std::vector<std::string>{});
  }
}

TEST_CASE("a full disk stops trace with a clear error, keeps the committed documents, and the run resumes") {
  TempDir tmp("disk-full");
  const std::string corpus = write_corpus(tmp / "corpus.jsonl");
  REQUIRE(run_child(trace_argv(corpus, tmp / "ref.moescope")) == 0);
  const WorkspaceState ref = read_state(tmp / "ref.moescope");
  const auto full_size = fs::file_size(tmp / "ref.moescope");

  // Files may not grow past half the finished workspace: the disk fills up half-way.
  const std::string ws = tmp / "ws.moescope";
  ChildOptions limited;
  limited.max_file_bytes = (long long)(full_size / 2);
  limited.stderr_path = tmp / "err.txt";
  CHECK(run_child(trace_argv(corpus, ws), limited) == 1);
  const std::string err = read_text(tmp / "err.txt");
  CHECK(err.find(ws) != std::string::npos);
  CHECK(err.find("is full") != std::string::npos);
  CHECK(err.find("nothing committed before is lost") != std::string::npos);
  const WorkspaceState s = read_state(ws);
  check_consistent(s, ref, "after the disk filled up");
  CHECK(s.ids.size() < ref.ids.size());

  // Space again: the same command finishes the corpus.
  REQUIRE(run_child(trace_argv(corpus, ws)) == 0);
  CHECK(read_state(ws).ids == ref.ids);

  // Exports on a full disk: a clear error and nothing under the final name, no temp left.
  const std::string keep = keep_first_8(tmp / "keep.json");
  fs::create_directories(tmp / "exports");
  ChildOptions tiny;
  tiny.max_file_bytes = 4096;
  tiny.stderr_path = tmp / "err2.txt";
  CHECK(run_child({cli_path(), "subset", "export", "--model", kModel, "--keep", keep, "--out", tmp / "exports/pruned"},
                  tiny) == 1);
  const std::string err2 = read_text(tmp / "err2.txt");
  CHECK(err2.find(tmp / "exports/pruned/model.safetensors: write failed: File too large") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp / "exports/pruned"));
  CHECK(leftovers(tmp / "exports", "pruned") == std::vector<std::string>{});
}

TEST_CASE("a read-only destination gives a clear error and leaves the workspace as it was") {
  uid_t uid = 0;
  gid_t gid = 0;
  if (::geteuid() == 0 && !nobody_ids(uid, gid)) {
    MESSAGE("skipped: running as root without a 'nobody' user, file modes cannot be tested");
    return;
  }
  TempDir tmp("read-only");
  fs::permissions(tmp.str(), fs::perms::all);  // the unprivileged child writes here
  const std::string corpus = write_corpus(tmp / "corpus.jsonl");
  const std::string ro = tmp / "ro";
  fs::create_directories(ro);
  fs::permissions(ro, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                          fs::perms::others_read | fs::perms::others_exec);
  if (::geteuid() != 0) fs::permissions(ro, fs::perms::owner_write, fs::perm_options::remove);
  ChildOptions as_user;
  as_user.as_nobody = true;
  as_user.stderr_path = tmp / "err.txt";

  // A new workspace in a folder nobody may write to.
  CHECK(run_child(trace_argv(corpus, ro + "/ws.moescope"), as_user) == 1);
  std::string err = read_text(tmp / "err.txt");
  CHECK(err.find(ro + "/ws.moescope") != std::string::npos);
  CHECK(err.find("is not writable: Permission denied") != std::string::npos);
  CHECK(fs::is_empty(ro));

  // An existing, half-traced workspace that is read-only: resuming fails cleanly, nothing changes.
  REQUIRE(run_child(trace_argv(corpus, tmp / "ref.moescope")) == 0);
  const std::string ws = tmp / "half.moescope";
  ChildOptions half;
  half.max_file_bytes = (long long)(fs::file_size(tmp / "ref.moescope") / 2);
  half.as_nobody = true;
  REQUIRE(run_child(trace_argv(corpus, ws), half) == 1);
  const WorkspaceState before = read_state(ws);
  REQUIRE(before.integrity == "ok");
  for (const char* suffix : {"", "-wal", "-shm"})
    if (fs::exists(ws + suffix))
      fs::permissions(ws + suffix, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  CHECK(run_child(trace_argv(corpus, ws), as_user) == 1);
  err = read_text(tmp / "err.txt");
  CHECK(err.find(ws) != std::string::npos);
  CHECK((err.find("not writable") != std::string::npos || err.find("readonly") != std::string::npos));
  const WorkspaceState after = read_state(ws);
  CHECK(after.integrity == "ok");
  CHECK(after.ids == before.ids);

  // Exports into the read-only folder.
  const std::string keep = keep_first_8(tmp / "keep.json");
  CHECK(run_child({cli_path(), "subset", "export", "--model", kModel, "--keep", keep, "--out", ro + "/pruned"}, as_user) == 1);
  err = read_text(tmp / "err.txt");
  CHECK(err.find(ro) != std::string::npos);
  CHECK(err.find("Permission denied") != std::string::npos);
  CHECK(fs::is_empty(ro));
}
