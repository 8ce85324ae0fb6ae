// test_workspace.cpp — tracing a corpus into a workspace: records equal the forward pass,
// resuming adds no duplicates and no gaps, mismatched models/corpora are refused, and a trace
// killed mid-run leaves a consistent workspace that the same command completes.
#include <doctest/doctest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "analysis/trace.h"
#include "engine/checkpoint/dtype.h"
#include "engine/error.h"
#include "tests/child_process.h"
#include "tests/error_of.h"
#include "tests/one_thread.h"
#include "tests/test_paths.h"

using namespace moescope;
using moescope::test::TempDir;

namespace {

std::string fixture(const std::string& name) { return test::fixtures_dir() + "/models/" + name; }

std::vector<CorpusDocument> small_corpus(size_t n) {
  const char* words[] = {"alpha", "beta", "gamma", "delta", "river", "stone", "code", "law", "x", "42"};
  std::vector<CorpusDocument> docs;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    for (size_t w = 0; w < 5 + (i * 7) % 23; ++w) text += std::string(words[(i * 3 + w * w) % 10]) + " ";
    docs.push_back({"doc" + std::to_string(i), i % 3 == 0 ? "a" : (i % 3 == 1 ? "b" : "c"), "en", text});
  }
  docs.push_back({"empty", "a", "en", ""});
  return docs;
}

// Floats are compared to 1e-5: a document's GEMMs see other rows when it shares a batch, and
// BLAS may sum in another order for another matrix size.
void check_close(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    if (!(std::isnan(a[i]) && std::isnan(b[i]))) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-5));
}

void check_same_record(const DocumentRecord& a, const DocumentRecord& b) {
  CHECK(a.ids == b.ids);
  CHECK(a.offsets == b.offsets);
  CHECK(a.topk_ids == b.topk_ids);
  check_close(a.topk_weights, b.topk_weights);
  check_close(a.doc_mean_probs, b.doc_mean_probs);
  check_close(a.doc_topk_freq, b.doc_topk_freq);
  check_close(a.nll, b.nll);
  REQUIRE(a.probs_f16.size() == b.probs_f16.size());
  for (size_t i = 0; i < a.probs_f16.size(); ++i)
    CHECK(f16_to_f32(a.probs_f16[i]) == doctest::Approx(f16_to_f32(b.probs_f16[i])).epsilon(2e-3));
}

using test::error_of;

// Starts argv[0] with argv, output discarded; returns the child's pid.
size_t wait_for_documents(const std::string& ws_path, size_t want) {
  size_t seen = 0;
  for (int i = 0; i < 2000 && seen < want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!std::filesystem::exists(ws_path)) continue;
    try {
      Workspace peek(ws_path, false);
      seen = peek.traced_documents().size();
    } catch (const Error&) {
      // the schema may not be there yet
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("workspace: trace records equal each document's own forward pass") {
  TempDir dir("ws-records");
  const auto model = Model::load(fixture("emo-shared"));
  const auto docs = small_corpus(7);
  Workspace ws(dir / "w.moescope", true);
  TraceOptions opt;
  opt.probs = true;
  opt.batch_tokens = 40;
  const TraceSummary s = trace_corpus(*model, docs, ws, opt);
  CHECK(s.traced_now == docs.size());
  CHECK(s.total == docs.size());
  const auto listed = ws.documents();
  REQUIRE(listed.size() == docs.size());
  const auto layers = ws.layers();
  REQUIRE(!layers.empty());
  for (size_t d = 0; d < docs.size(); ++d) {
    CAPTURE(d);
    CHECK(listed[d].domain == docs[d].domain);
    CHECK(listed[d].ext_id == docs[d].id);
    const DocumentRecord got = ws.record(listed[d].id);
    const Encoding enc = model->tokenizer()->encode(docs[d].text);
    CHECK(listed[d].tokens == int64_t(enc.ids.size()));
    if (enc.ids.empty()) {
      CHECK(got.ids.empty());
      continue;
    }
    ForwardOptions fo;
    fo.probs = true;
    const ForwardResult r = model->forward({enc.ids}, fo);
    DocumentRecord want = record_of(r, 0, true);
    for (const auto& o : enc.offsets) {
      want.offsets.push_back(int32_t(o.first));
      want.offsets.push_back(int32_t(o.second));
    }
    check_same_record(got, want);
    // Shape of the blobs: K ids per token per MoE layer, Es probabilities per layer.
    size_t k_total = 0, es_total = 0;
    for (const LayerLayout& l : layers) {
      k_total += size_t(l.k);
      es_total += size_t(l.num_standard);
    }
    CHECK(got.topk_ids.size() == enc.ids.size() * k_total);
    CHECK(got.doc_mean_probs.size() == es_total);
    CHECK(got.probs_f16.size() == enc.ids.size() * es_total);
    // float16 probabilities stay within half-precision rounding of the fp32 ones.
    const LayerRecord& l0 = r.layers[0];
    CHECK(f16_to_f32(got.probs_f16[0]) == doctest::Approx(l0.probs[0]).epsilon(1e-3));
  }
}

TEST_CASE("workspace: a stopped trace resumes with no duplicates and no gaps") {
  TempDir dir("ws-resume");
  const auto model = Model::load(fixture("emo-shared"));
  const auto docs = small_corpus(12);
  std::atomic<bool> stop{false};
  TraceOptions opt;
  opt.batch_tokens = 30;
  opt.stop = &stop;
  int batches = 0;
  opt.progress = [&](const TraceProgress& p) {
    if (p.documents_done > 0 && ++batches == 2) stop = true;  // stop after the second batch
  };
  size_t first_run = 0;
  {
    Workspace ws(dir / "w.moescope", true);
    const TraceSummary s = trace_corpus(*model, docs, ws, opt);
    CHECK(s.stopped);
    first_run = s.traced_now;
    CHECK(first_run > 0);
    CHECK(first_run < docs.size());
    CHECK(ws.traced_documents().size() == first_run);
  }
  stop = false;
  opt.progress = nullptr;
  Workspace ws(dir / "w.moescope", false);
  const TraceSummary s2 = trace_corpus(*model, docs, ws, opt);
  CHECK_FALSE(s2.stopped);
  CHECK(s2.already == first_run);
  CHECK(s2.traced_now == docs.size() - first_run);
  CHECK(ws.traced_documents().size() == docs.size());

  // The resumed workspace equals one traced in a single run.
  Workspace fresh(dir / "fresh.moescope", true);
  TraceOptions plain;
  trace_corpus(*model, docs, fresh, plain);
  const auto a = ws.documents(), b = fresh.documents();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) check_same_record(ws.record(a[i].id), fresh.record(b[i].id));
}

TEST_CASE("workspace: another model, corpus or setting is refused; a non-workspace file too") {
  TempDir dir("ws-refuse");
  const auto docs = small_corpus(3);
  const auto model = Model::load(fixture("emo-shared"));
  Workspace ws(dir / "w.moescope", true);
  trace_corpus(*model, docs, ws, TraceOptions{});
  const auto other = Model::load(fixture("emo-always-active"));
  CHECK(error_of([&] { trace_corpus(*other, docs, ws, TraceOptions{}); }).find("traced with a different model") !=
        std::string::npos);
  TraceOptions probs;
  probs.probs = true;
  CHECK(error_of([&] { trace_corpus(*model, docs, ws, probs); }).find("traced with other settings") != std::string::npos);
  auto changed = docs;
  changed[1].text += " changed";
  CHECK(error_of([&] { trace_corpus(*model, changed, ws, TraceOptions{}); }).find("holds another corpus") !=
        std::string::npos);
  std::ofstream(dir / "not.moescope") << "this is not a database, just text that is long enough to look like a header";
  CHECK(error_of([&] { Workspace w(dir / "not.moescope", false); }).find("not a moescope workspace") != std::string::npos);
  CHECK(error_of([&] { Workspace w(dir / "absent.moescope", false); }).find("no such workspace") != std::string::npos);
}

TEST_CASE("workspace: a trace killed mid-run (SIGKILL) keeps every committed document; the same command completes it") {
  test::OneThread one_thread;
  TempDir dir("ws-kill");
  const auto docs = small_corpus(400);
  {
    std::ofstream out(dir / "c.jsonl");
    for (const auto& d : docs) out << nlohmann::json{{"text", d.text}, {"domain", d.domain}, {"id", d.id}}.dump() << "\n";
  }
  const std::string ws_path = dir / "w.moescope";
  const std::vector<std::string> argv = {test::cli_path(), "trace", "--model", fixture("emo-shared"), "--corpus",
                                         dir / "c.jsonl", "--workspace", ws_path, "--batch-tokens", "24",
                                         "--threads", "1"};
  test::ChildOptions quiet;
  quiet.stderr_path = dir / "stderr.txt";
  INFO("trace's stderr: ", test::read_text(quiet.stderr_path));
  const pid_t pid = test::start_child(argv, quiet);
  REQUIRE(pid > 0);
  wait_for_documents(ws_path, 20);  // some committed documents, then kill without warning
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  size_t committed = 0;
  {
    Workspace ws(ws_path, false);
    const auto done = ws.traced_documents();
    committed = done.size();
    CHECK(committed >= 20);
    CHECK(committed < docs.size());
    for (int64_t id : done) CHECK_NOTHROW(ws.record(id));  // every committed record reads back whole
  }
  const pid_t again = test::start_child(argv, quiet);
  ::waitpid(again, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  Workspace ws(ws_path, false);
  CHECK(ws.traced_documents().size() == docs.size());
  // Same records as an uninterrupted trace.
  const auto model = Model::load(fixture("emo-shared"));
  Workspace fresh(dir / "fresh.moescope", true);
  TraceOptions opt;
  opt.batch_tokens = 24;
  trace_corpus(*model, read_corpus(dir / "c.jsonl"), fresh, opt);
  const auto a = ws.documents(), b = fresh.documents();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); i += 37) check_same_record(ws.record(a[i].id), fresh.record(b[i].id));
}

TEST_CASE("workspace: Ctrl-C (SIGINT) stops a trace after the batch in flight, exit 130, resumable") {
  test::OneThread one_thread;
  TempDir dir("ws-sigint");
  const auto docs = small_corpus(400);
  {
    std::ofstream out(dir / "c.jsonl");
    for (const auto& d : docs) out << nlohmann::json{{"text", d.text}, {"domain", d.domain}}.dump() << "\n";
  }
  const std::string ws_path = dir / "w.moescope";
  const std::vector<std::string> argv = {test::cli_path(), "trace", "--model", fixture("emo-shared"), "--corpus",
                                         dir / "c.jsonl", "--workspace", ws_path, "--batch-tokens", "24", "--threads", "1"};
  test::ChildOptions quiet;
  quiet.stderr_path = dir / "stderr.txt";
  INFO("trace's stderr: ", test::read_text(quiet.stderr_path));
  const pid_t pid = test::start_child(argv, quiet);
  REQUIRE(pid > 0);
  wait_for_documents(ws_path, 10);
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  Workspace ws(ws_path, false);
  const size_t stopped_at = ws.traced_documents().size();
  CHECK(stopped_at >= 10);
  CHECK(stopped_at < docs.size());
  const auto model = Model::load(fixture("emo-shared"));
  TraceOptions opt;
  opt.batch_tokens = 24;
  const TraceSummary s = trace_corpus(*model, read_corpus(dir / "c.jsonl"), ws, opt);
  CHECK(s.already == stopped_at);
  CHECK(ws.traced_documents().size() == docs.size());
}

TEST_CASE("workspace: a document's text by id; documents found by a substring in any ASCII case, corpus order, capped") {
  TempDir tmp("ws-find");
  Workspace ws(tmp / "w.moescope", true);
  const std::vector<int64_t> ids = ws.add_documents({{"a", "x", "", "The River runs"},
                                                     {"b", "x", "", "no match here"},
                                                     {"c", "y", "", "a river, and 100% of it"},
                                                     {"d", "y", "", "RIVERS everywhere"}});
  REQUIRE(ids.size() == 4);
  CHECK(ws.document_text(ids[2]) == "a river, and 100% of it");
  CHECK_THROWS_WITH_AS(ws.document_text(999), doctest::Contains("no document with id 999"), Error);
  CHECK(ws.find_documents("river", 10) == std::vector<int64_t>{ids[0], ids[2], ids[3]});
  CHECK(ws.find_documents("river", 2) == std::vector<int64_t>{ids[0], ids[2]});
  CHECK(ws.find_documents("100%", 10) == std::vector<int64_t>{ids[2]});  // no LIKE wildcards
  CHECK(ws.find_documents("%", 10) == std::vector<int64_t>{ids[2]});
  CHECK(ws.find_documents("lake", 10).empty());
}
