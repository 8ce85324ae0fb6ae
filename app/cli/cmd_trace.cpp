// cmd_trace.cpp — `moescope-cli trace`: route a labelled corpus into a workspace, resumably.
// Ctrl-C finishes the batch in flight, commits it and exits; the same command resumes.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "analysis/trace.h"
#include "app/cli/commands.h"
#include "engine/cpu_ops.h"
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

}  // namespace

int cmd_trace(const std::vector<std::string>& argv) {
  Args args(argv, {"probs", "json"}, {"model", "corpus", "workspace", "max-tokens-per-doc", "batch-tokens", "threads", "precision"});
  const std::string ws_path = args.require("workspace");
  const std::vector<CorpusDocument> docs = read_corpus(args.require("corpus"));
  std::unique_ptr<ExpertSubset> no_keep;
  auto model = load_model_for(args, no_keep);
  Workspace ws(ws_path, true);

  TraceOptions opt;
  opt.max_tokens_per_doc = args.get_int("max-tokens-per-doc", 0, 1);
  opt.probs = args.flag("probs");
  opt.batch_tokens = args.get_int("batch-tokens", 16384, 1);
  opt.stop = &g_stop;
  const bool tty = ::isatty(STDERR_FILENO);
  size_t first_done = 0;
  bool first = true;
  opt.progress = [&](const TraceProgress& p) {
    if (first) {
      first_done = p.documents_done;
      first = false;
    }
    // ETA from this run's pace in documents per second (earlier runs' documents excluded).
    const double rate = p.seconds_this_run > 0 ? double(p.tokens_this_run) / p.seconds_this_run : 0;
    const size_t now = p.documents_done - first_done;
    const double eta = now > 0 ? p.seconds_this_run / double(now) * double(p.documents_total - p.documents_done) : -1;
    std::fprintf(stderr, "%strace: %zu/%zu documents, %.0f tokens/s, ETA %s%s", tty ? "\r" : "", p.documents_done,
                 p.documents_total, rate, eta_text(eta).c_str(), tty ? "   " : "\n");
    std::fflush(stderr);
  };
  auto old_int = std::signal(SIGINT, on_interrupt);
  auto old_term = std::signal(SIGTERM, on_interrupt);
  TraceSummary s;
  try {
    s = trace_corpus(*model, docs, ws, opt);
  } catch (...) {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
    if (tty) std::fputc('\n', stderr);
    throw;
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
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
