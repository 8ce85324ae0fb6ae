// cmd_trace.cpp — `moescope-cli trace`: route a labelled corpus into a workspace, resumably.
// Ctrl-C finishes the batch in flight, commits it and exits; the same command resumes. Under
// mpirun with several processes the ranks share the work (trace_ranks.cpp).
#include "app/cli/cmd_trace.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/mpi_shard.h"
#include "engine/error.h"

namespace moescope::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_interrupt(int) { g_stop.store(true); }

std::string eta_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  char buf[32];
  const long s = long(seconds);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

const std::set<std::string> kFlags = {"probs", "json", "no-memory-check"};
const std::set<std::string> kValued = {"model", "corpus", "workspace", "max-tokens-per-doc", "batch-tokens", "threads", "precision", "device"};

}  // namespace

TraceOptions trace_options(const Args& args) {
  TraceOptions opt;
  opt.max_tokens_per_doc = args.get_int("max-tokens-per-doc", 0, 1);
  opt.probs = args.flag("probs");
  opt.batch_tokens = args.get_int("batch-tokens", 16384, 1);
  opt.stop = &g_stop;
  return opt;
}

std::function<void(const TraceProgress&)> progress_printer(const std::string& label) {
  const bool tty = ::isatty(STDERR_FILENO);
  auto first_done = std::make_shared<std::optional<size_t>>();
  return [=](const TraceProgress& p) {
    if (!*first_done) *first_done = p.documents_done;
    // ETA from this run's pace in documents per second (earlier runs' documents excluded).
    const double rate = p.seconds_this_run > 0 ? double(p.tokens_this_run) / p.seconds_this_run : 0;
    const size_t now = p.documents_done - **first_done;
    const double eta = now > 0 ? p.seconds_this_run / double(now) * double(p.documents_total - p.documents_done) : -1;
    std::fprintf(stderr, "%s%s: %zu/%zu documents, %.0f tokens/s, ETA %s%s", tty ? "\r" : "", label.c_str(),
                 p.documents_done, p.documents_total, rate, eta_text(eta).c_str(), tty ? "   " : "\n");
    std::fflush(stderr);
  };
}

StopOnInterrupt::StopOnInterrupt()
    : old_int_(std::signal(SIGINT, on_interrupt)), old_term_(std::signal(SIGTERM, on_interrupt)) {}

StopOnInterrupt::~StopOnInterrupt() {
  std::signal(SIGINT, old_int_);
  std::signal(SIGTERM, old_term_);
}

int cmd_trace(const std::vector<std::string>& argv) {
  if (launched_ranks() > 1) {
    RankGroup ranks;  // refuses when built without MPI
    return trace_across_ranks(Args(argv, kFlags, kValued), ranks);
  }
  Args args(argv, kFlags, kValued);
  const std::string ws_path = args.require("workspace");
  const std::vector<CorpusDocument> docs = read_corpus(args.require("corpus"));
  std::unique_ptr<ExpertSubset> no_keep;
  auto model = load_model_for(args, no_keep);
  Workspace ws(ws_path, true);

  TraceOptions opt = trace_options(args);
  opt.progress = progress_printer("trace");
  const bool tty = ::isatty(STDERR_FILENO);
  TraceSummary s;
  try {
    StopOnInterrupt guard;
    s = trace_corpus(*model, docs, ws, opt);
  } catch (...) {
    if (tty) std::fputc('\n', stderr);
    throw;
  }
  if (tty) std::fputc('\n', stderr);
  if (args.flag("json")) {
    std::cout << nlohmann::json{{"workspace", ws_path},       {"documents", s.total},    {"traced_now", s.traced_now},
                                {"already_traced", s.already}, {"tokens", s.tokens},      {"truncated", s.truncated},
                                {"stopped", s.stopped}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("%s: %zu documents traced now, %zu already there, %zu of %zu done; %zu tokens; %zu truncated\n",
                ws_path.c_str(), s.traced_now, s.already, s.traced_now + s.already, s.total, s.tokens, s.truncated);
    if (s.stopped) std::printf("stopped before the end: run the same command again to resume\n");
  }
  return s.stopped ? 130 : 0;
}

}  // namespace moescope::cli
