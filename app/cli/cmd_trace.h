// cmd_trace.h — the pieces of `moescope-cli trace` shared by the single-process command
// (cmd_trace.cpp) and its sharded form under mpirun (trace_ranks.cpp).
#pragma once

#include <csignal>

#include "analysis/trace.h"
#include "app/cli/args.h"

namespace moescope::cli {

class RankGroup;

// --max-tokens-per-doc, --probs, --batch-tokens, and the stop flag that Ctrl-C / SIGTERM set.
TraceOptions trace_options(const Args& args);
// Progress lines on stderr ("LABEL: D/N documents, tokens/s, ETA"), one updating line on a terminal.
std::function<void(const TraceProgress&)> progress_printer(const std::string& label);

// While alive, SIGINT and SIGTERM set trace_options' stop flag: the batch in flight is finished
// and committed, then the trace returns (stopped).
class StopOnInterrupt {
 public:
  StopOnInterrupt();
  ~StopOnInterrupt();
  StopOnInterrupt(const StopOnInterrupt&) = delete;
  StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

// `trace` run by every rank of an mpirun launch (trace_ranks.cpp).
int trace_across_ranks(const Args& args, RankGroup& ranks);

}  // namespace moescope::cli
