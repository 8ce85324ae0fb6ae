// test_workspace_merge.cpp — a trace split into shards (what each rank of `mpirun ... trace` runs)
// and merged gives the single-process workspace byte for byte; each shard runs exactly the batches
// the packing rule gives it; the merge refuses gaps, conflicts and foreign parts without writing.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "analysis/batching.h"
#include "analysis/document_tokens.h"
#include "analysis/trace.h"
#include "analysis/workspace_merge.h"
#include "engine/cpu/cpu_ops.h"
#include "engine/error.h"
#include "tests/error_of.h"
#include "tests/one_thread.h"
#include "tests/test_paths.h"

using namespace moescope;
using moescope::test::TempDir;
namespace fs = std::filesystem;

namespace {

// Every 40th held-out document (several domains, lengths from a few tokens to the cap) and an
// empty one, which has no tokens and rides along with a batch.
std::vector<CorpusDocument> heldout_slice() {
  const auto all = read_corpus(test::source_dir() + "/samples/corpus/heldout.jsonl");
  std::vector<CorpusDocument> out;
  for (size_t i = 0; i < all.size(); i += 40) out.push_back(all[i]);
  out.insert(out.begin() + 5, CorpusDocument{"empty", "none", "", ""});
  return out;
}

std::unique_ptr<Model> sample_model() { return Model::load(test::source_dir() + "/samples/models/emo-sample"); }

using test::OneThread;

// Every records row as stored, by corpus position: the columns' bytes (NULL as "<null>").
std::map<int64_t, std::vector<std::string>> raw_rows(Workspace& ws) {
  std::map<int64_t, std::vector<std::string>> out;
  SqliteStmt st(ws.db(),
                "SELECT d.position, r.tokens, r.truncated, r.ids, r.offsets, r.nll, r.topk_ids, r.topk_weights, "
                "r.doc_mean_probs, r.doc_topk_freq, r.probs FROM records r JOIN documents d ON d.id = r.doc_id");
  while (st.step()) {
    std::vector<std::string> row{std::to_string(st.column_int(1)), std::to_string(st.column_int(2))};
    for (int c = 3; c <= 10; ++c) {
      const auto bytes = st.column_blob<char>(c);
      row.push_back(st.column_is_null(c) ? std::string("<null>") : std::string(bytes.begin(), bytes.end()));
    }
    out[st.column_int(0)] = std::move(row);
  }
  return out;
}

using test::error_of;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("batching: documents fill a batch up to batch_tokens; an empty one joins the open batch") {
  BatchPacker p(10);
  // sizes 4, 5, 0, 2, 12 (alone, over the budget), 3, 10, 1 -> batches by hand:
  // [4 5 0] (9; 2 would make 11), [2] then 12 does not fit -> [12], [3] (3 + 10 > 10), [10], [1]
  std::vector<size_t> got;
  for (int64_t n : {4, 5, 0, 2, 12, 3, 10, 1}) got.push_back(p.add(n));
  CHECK(got == std::vector<size_t>{0, 0, 0, 1, 2, 3, 4, 5});
  const std::vector<std::vector<int32_t>> docs{{1, 2, 3}, {4, 5}, {6, 7, 8, 9, 10}, {11}};
  CHECK(pack_batches(docs, 5) == std::vector<std::pair<size_t, size_t>>{{0, 2}, {2, 3}, {3, 4}});
}

TEST_CASE("sharded trace: shards run the batches b % N == r and merge into the single-process workspace byte for byte") {
  TempDir dir("ws-shards");
  OneThread one;
  const auto model = sample_model();
  const auto docs = heldout_slice();
  TraceOptions opt;
  opt.max_tokens_per_doc = 64;
  opt.batch_tokens = 150;  // two or three documents per batch: many batches
  opt.probs = true;
  Workspace single(dir / "single.moescope", true);
  REQUIRE(trace_corpus(*model, docs, single, opt).traced_now == docs.size());

  // The batch of each document, by hand from its token count (greedy, in corpus order).
  std::vector<size_t> batch_of_doc;
  {
    size_t b = 0;
    int64_t filled = 0;
    for (const CorpusDocument& d : docs) {
      const int64_t n = int64_t(encode_document(*model, d, 64).enc.ids.size());
      if (n > 0 && filled > 0 && filled + n > opt.batch_tokens) {
        ++b;
        filled = 0;
      }
      filled += n;
      batch_of_doc.push_back(b);
    }
    REQUIRE(b >= 6);
  }

  const int kShards = 3;
  const std::string ws = dir / "merged.moescope";
  std::vector<std::string> parts;
  size_t traced = 0;
  for (int r = 0; r < kShards; ++r) {
    parts.push_back(partial_workspace_path(ws, r, kShards));
    Workspace part(parts.back(), true);
    TraceOptions sharded = opt;
    sharded.shard_rank = r;
    sharded.shard_count = kShards;
    const TraceSummary s = trace_corpus(*model, docs, part, sharded);
    traced += s.traced_now;
    // The partial holds every document of the corpus, records only of its batches.
    const auto listed = part.documents();
    REQUIRE(listed.size() == docs.size());
    for (size_t d = 0; d < docs.size(); ++d) {
      CAPTURE(d);
      CHECK((listed[d].tokens >= 0) == (batch_of_doc[d] % kShards == size_t(r)));
    }
  }
  CHECK(traced == docs.size());
  CHECK(parts[1] == (dir / "merged.rank-1-of-3.moescope"));

  const MergeSummary m = merge_workspaces(ws, parts);
  CHECK(m.documents == docs.size());
  CHECK(m.merged == docs.size());
  CHECK(m.already == 0);
  for (const auto& e : fs::directory_iterator(dir.str())) {  // no temporary or SQLite side file left
    const std::string name = e.path().filename().string();
    CHECK_MESSAGE((name.rfind("merged.moescope", 0) != 0 || name == "merged.moescope"), name);
  }
  Workspace merged(ws, false);
  CHECK(merged.run_info() == single.run_info());
  const auto a = merged.documents(), b = single.documents();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].id == b[i].id);  // workspace ids in corpus order, as a single process gives them
    CHECK(a[i].ext_id == b[i].ext_id);
    CHECK(a[i].domain == b[i].domain);
  }
  const auto want = raw_rows(single), got = raw_rows(merged);
  REQUIRE(got.size() == want.size());
  for (const auto& [pos, row] : want) {
    CAPTURE(pos);
    CHECK(got.at(pos) == row);
  }
  SqliteStmt check(merged.db(), "PRAGMA integrity_check");
  REQUIRE(check.step());
  CHECK(check.column_text(0) == "ok");

  // Merging the same parts again into the complete workspace copies nothing and changes nothing.
  const MergeSummary again = merge_workspaces(ws, parts);
  CHECK(again.merged == 0);
  CHECK(again.already == docs.size());
  CHECK(raw_rows(merged) == want);
}

TEST_CASE("sharded trace: a stopped shard resumes into the same records") {
  TempDir dir("ws-shard-resume");
  OneThread one;
  const auto model = sample_model();
  const auto docs = heldout_slice();
  TraceOptions opt;
  opt.max_tokens_per_doc = 64;
  opt.batch_tokens = 150;
  opt.shard_rank = 1;
  opt.shard_count = 2;
  Workspace once(dir / "once.moescope", true);
  trace_corpus(*model, docs, once, opt);

  std::atomic<bool> stop{false};
  TraceOptions first = opt;
  first.stop = &stop;
  int batches = 0;
  first.progress = [&](const TraceProgress&) {
    if (++batches == 3) stop = true;  // the start, then two batches
  };
  Workspace ws(dir / "w.moescope", true);
  const TraceSummary s1 = trace_corpus(*model, docs, ws, first);
  CHECK(s1.stopped);
  CHECK(s1.traced_now > 0);
  const TraceSummary s2 = trace_corpus(*model, docs, ws, opt);
  CHECK_FALSE(s2.stopped);
  CHECK(s2.already == s1.traced_now);
  CHECK(s1.traced_now + s2.traced_now == once.traced_documents().size());
  CHECK(raw_rows(ws) == raw_rows(once));
}

TEST_CASE("workspace merge: gaps, conflicting records and foreign parts are refused before anything is written") {
  TempDir dir("ws-merge-refuse");
  OneThread one;
  const auto model = sample_model();
  auto docs = heldout_slice();
  docs.resize(8);
  TraceOptions opt;
  opt.max_tokens_per_doc = 32;
  opt.batch_tokens = 60;
  auto shard = [&](const std::string& path, int r, int n, const TraceOptions& base, const std::vector<CorpusDocument>& corpus) {
    Workspace w(path, true);
    TraceOptions o = base;
    o.shard_rank = r;
    o.shard_count = n;
    trace_corpus(*model, corpus, w, o);
    return path;
  };
  const std::string p0 = shard(dir / "p0.moescope", 0, 2, opt, docs), p1 = shard(dir / "p1.moescope", 1, 2, opt, docs);
  const std::string out = dir / "out.moescope";

  // A shard missing: the first document without a record is named, and no output appears.
  std::string e = error_of([&] { merge_workspaces(out, {p0}); });
  CHECK(has(e, "has no record in any of the 1 partial workspaces"));
  CHECK(has(e, "missing"));
  CHECK_FALSE(fs::exists(out));
  for (const auto& f : fs::directory_iterator(dir.str())) CHECK(f.path().string().find(".tmp-") == std::string::npos);

  // A document found twice: identical copies are fine, a copy with other bytes is refused.
  const std::string copy = dir / "p1-copy.moescope", edited = dir / "p1-edited.moescope";
  fs::copy_file(p1, copy);
  fs::copy_file(p1, edited);
  {
    Workspace w(edited, false);
    w.db().exec("UPDATE records SET nll = zeroblob(length(nll)) WHERE doc_id = (SELECT min(doc_id) FROM records)");
  }
  e = error_of([&] { merge_workspaces(out, {p0, p1, edited}); });
  CHECK(has(e, "has different records in " + p1 + " and " + edited));
  CHECK_FALSE(fs::exists(out));

  // Another setting, another corpus, a part that is no workspace.
  TraceOptions probs = opt;
  probs.probs = true;
  const std::string with_probs = shard(dir / "probs.moescope", 1, 2, probs, docs);
  CHECK(has(error_of([&] { merge_workspaces(out, {p0, with_probs}); }), "traced with other settings than"));
  auto changed = docs;
  changed[3].text += " (edited)";
  const std::string other_corpus = shard(dir / "other.moescope", 1, 2, opt, changed);
  CHECK(has(error_of([&] { merge_workspaces(out, {p0, other_corpus}); }), "holds another corpus than"));
  CHECK(has(error_of([&] { merge_workspaces(out, {p0, dir / "absent.moescope"}); }), "no such workspace"));
  CHECK(has(error_of([&] { merge_workspaces(out, {}); }), "nothing to merge"));
  CHECK_FALSE(fs::exists(out));

  // The good parts merge (the identical copy adds nothing); the parts stay.
  CHECK(merge_workspaces(out, {p0, p1, copy}).merged == docs.size());
  CHECK(fs::exists(p0));
  // An existing output with another setting is refused.
  CHECK(has(error_of([&] { merge_workspaces(out, {with_probs}); }), "traced with other settings than"));
}

TEST_CASE("workspace merge: partials of a run with another rank count are found by name") {
  TempDir dir("ws-merge-names");
  const std::string ws = dir / "t.moescope";
  CHECK(partial_workspace_path(ws, 2, 4) == (dir / "t.rank-2-of-4.moescope"));
  CHECK(partial_workspace_path(dir / "plain", 0, 2) == (dir / "plain.rank-0-of-2.moescope"));
  for (const char* name : {"t.rank-0-of-2.moescope", "t.rank-1-of-2.moescope", "t.rank-0-of-3.moescope",
                           "t.rank-x-of-3.moescope", "u.rank-0-of-3.moescope", "t.rank-0-of-3.moescope-wal"})
    std::ofstream(dir / name) << "x";
  CHECK(partials_of_other_runs(ws, 2) == std::vector<std::string>{dir / "t.rank-0-of-3.moescope"});
  CHECK(partials_of_other_runs(ws, 3) ==
        std::vector<std::string>{dir / "t.rank-0-of-2.moescope", dir / "t.rank-1-of-2.moescope"});
}
