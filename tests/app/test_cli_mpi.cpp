// test_cli_mpi.cpp — `mpirun -np 2 moescope-cli trace` on one machine: the merged workspace holds
// the single-process run's records byte for byte and analyze says the same of both; the partial
// workspaces are gone; a failing rank fails the whole launch with no final workspace, and the
// rerun resumes. A build without MPI must refuse to run under mpirun. Skipped without mpirun.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/corpus.h"
#include "analysis/workspace.h"
#include "tests/app/cli_run.h"
#include "tests/test_paths.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace moescope::test;

namespace {

// [[maybe_unused]] below: a build without MPI runs only the refusal check.
std::string find_mpirun() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', at), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(at, end - at)) / "mpirun";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    at = end + 1;
  }
  return "";
}

// Two ranks on this machine, whoever runs the tests (CI runs as root), over shared memory.
std::string mpirun_command(const std::string& mpirun, const std::vector<std::string>& cli_args) {
  // Sanitizer builds: Open MPI's plugins are dlclose'd before LeakSanitizer runs, so their
  // allocations cannot be attributed or suppressed; leak checks of our code run in-process
  // (test_workspace_merge.cpp). Address and UB checks stay on.
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none "
         "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" " +
         quote(mpirun) + " -np 2 --oversubscribe --bind-to none --mca btl self,vader " + cli_command(cli_args);
}

// Every 30th held-out document (42, several domains) as a JSONL corpus.
std::string write_corpus(const TempDir& dir) {
  const auto all = moescope::read_corpus(source_dir() + "/samples/corpus/heldout.jsonl");
  const std::string path = dir / "c.jsonl";
  std::ofstream out(path);
  for (size_t i = 0; i < all.size(); i += 30)
    out << json{{"text", all[i].text}, {"domain", all[i].domain}, {"lang", all[i].lang}, {"id", all[i].id}}.dump() << "\n";
  return path;
}

std::vector<std::string> trace_args(const std::string& corpus, const std::string& ws) {
  return {"trace", "--model", source_dir() + "/samples/models/emo-sample", "--corpus", corpus, "--workspace", ws,
          "--threads", "1", "--max-tokens-per-doc", "96", "--batch-tokens", "300", "--json"};
}

// Each document's records row as stored (every column's bytes), by corpus position.
[[maybe_unused]] std::map<int64_t, std::vector<std::string>> raw_rows(const std::string& path) {
  moescope::Workspace ws(path, false);
  std::map<int64_t, std::vector<std::string>> out;
  moescope::SqliteStmt st(ws.db(),
                          "SELECT d.position, d.id, d.ext_id, r.tokens, r.truncated, r.ids, r.offsets, r.nll, r.topk_ids, "
                          "r.topk_weights, r.doc_mean_probs, r.doc_topk_freq, r.probs FROM documents d LEFT JOIN records r "
                          "ON r.doc_id = d.id");
  while (st.step()) {
    std::vector<std::string> row{std::to_string(st.column_int(1)), st.column_text(2)};
    for (int c = 3; c <= 12; ++c) {
      const auto bytes = st.column_blob<char>(c);
      row.push_back(st.column_is_null(c) ? std::string("<null>") : std::string(bytes.begin(), bytes.end()));
    }
    out[st.column_int(0)] = std::move(row);
  }
  return out;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

[[maybe_unused]] bool any_partial_in(const TempDir& dir) {
  for (const auto& e : fs::directory_iterator(dir.str()))
    if (has(e.path().filename().string(), ".rank-")) return true;
  return false;
}

[[maybe_unused]] json analyze(const std::string& ws) {
  const Run r = run_cli({"analyze", "--workspace", ws, "--json", "--clusters", "4", "--max-groups", "4"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  json j = json::parse(r.out);
  j.erase("workspace");  // the only field that names the file
  return j;
}

}  // namespace

TEST_CASE("cli trace under mpirun -np 2: the merged workspace equals the single-process one") {
  const std::string mpirun = find_mpirun();
  if (mpirun.empty()) {
    MESSAGE("skipped: mpirun not found (tools/install-deps.sh installs openmpi-bin)");
    return;
  }
  TempDir dir("cli-mpi");
  const std::string corpus = write_corpus(dir);
  const size_t n_docs = moescope::read_corpus(corpus).size();
#if MOESCOPE_CLI_HAS_MPI
  const Run single = run_cli(trace_args(corpus, dir / "single.moescope"));
  REQUIRE_MESSAGE(single.code == 0, single.err);
  const Run ranks = run_command(mpirun_command(mpirun, trace_args(corpus, dir / "mpi.moescope")));
  REQUIRE_MESSAGE(ranks.code == 0, ranks.err);
  const json summary = json::parse(ranks.out);  // rank 0 alone prints it
  CHECK(summary["ranks"] == 2);
  CHECK(summary["traced_now"] == n_docs);
  CHECK(summary["merged"] == n_docs);
  CHECK(summary["tokens"] == json::parse(single.out)["tokens"]);
  CHECK_FALSE(any_partial_in(dir));

  const auto want = raw_rows(dir / "single.moescope"), got = raw_rows(dir / "mpi.moescope");
  REQUIRE(want.size() == n_docs);
  REQUIRE(got.size() == n_docs);
  for (const auto& [pos, row] : want) {
    CAPTURE(pos);
    CHECK(got.at(pos) == row);
  }
  CHECK(analyze(dir / "single.moescope") == analyze(dir / "mpi.moescope"));
#else
  const Run r = run_command(mpirun_command(mpirun, trace_args(corpus, dir / "mpi.moescope")));
  CHECK(r.code != 0);
  CHECK(has(r.err, "built without MPI"));
  CHECK_FALSE(fs::exists(dir / "mpi.moescope"));
  (void)n_docs;
#endif
}

#if MOESCOPE_CLI_HAS_MPI
TEST_CASE("cli trace under mpirun: a failing rank fails the launch with no workspace; the rerun resumes") {
  const std::string mpirun = find_mpirun();
  if (mpirun.empty()) {
    MESSAGE("skipped: mpirun not found (tools/install-deps.sh installs openmpi-bin)");
    return;
  }
  TempDir dir("cli-mpi-fail");
  const std::string corpus = write_corpus(dir);
  const size_t n_docs = moescope::read_corpus(corpus).size();
  const std::string ws = dir / "w.moescope";

  // Rank 1 cannot create its partial workspace (a folder is in the way); rank 0 traces its half.
  fs::create_directories(dir / "w.rank-1-of-2.moescope");
  Run r = run_command(mpirun_command(mpirun, trace_args(corpus, ws)));
  INFO("mpirun's stderr: ", r.err);
  CHECK(r.code != 0);
  CHECK(has(r.err, "rank 1 of 2: " + (dir / "w.rank-1-of-2.moescope")));
  CHECK(has(r.err, "nothing merged"));
  CHECK(r.out.empty());
  CHECK_FALSE(fs::exists(ws));
  CHECK(fs::exists(dir / "w.rank-0-of-2.moescope"));
  // Rank 0's half alone does not make a workspace, by hand either.
  Run m = run_cli({"workspace", "merge", ws, dir / "w.rank-0-of-2.moescope"});
  CHECK(m.code == 1);
  CHECK(has(m.err, "has no record in any of the 1 partial workspaces"));
  CHECK_FALSE(fs::exists(ws));
  m = run_cli({"workspace", "merge", ws});
  CHECK(m.code == 2);  // a usage error: no partial workspace named
  CHECK(has(m.err, "OUT PART..."));

  // The same command, once the way is clear, traces only rank 1's half and merges.
  fs::remove(dir / "w.rank-1-of-2.moescope");
  r = run_command(mpirun_command(mpirun, trace_args(corpus, ws)));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const json summary = json::parse(r.out);
  CHECK(summary["already_traced"].get<size_t>() > 0);
  CHECK(summary["traced_now"].get<size_t>() > 0);
  CHECK(summary["already_traced"].get<size_t>() + summary["traced_now"].get<size_t>() == n_docs);
  CHECK_FALSE(any_partial_in(dir));
  const Run single = run_cli(trace_args(corpus, dir / "single.moescope"));
  REQUIRE_MESSAGE(single.code == 0, single.err);
  CHECK(raw_rows(ws) == raw_rows(dir / "single.moescope"));

  // A bad corpus fails every rank; partials of a run with another -np are not silently ignored.
  r = run_command(mpirun_command(mpirun, trace_args(dir / "absent.jsonl", dir / "x.moescope")));
  CHECK(r.code != 0);
  CHECK(has(r.err, "absent.jsonl"));
  CHECK_FALSE(fs::exists(dir / "x.moescope"));
  std::ofstream(dir / "y.rank-0-of-3.moescope") << "";
  r = run_command(mpirun_command(mpirun, trace_args(corpus, dir / "y.moescope")));
  CHECK(r.code != 0);
  CHECK(has(r.err, "another number of ranks"));
  CHECK_FALSE(fs::exists(dir / "y.moescope"));
}
#endif
