// subset_memory.h — bench-subset-memory's two halves: the driver (subset_memory.cpp) and the
// measured process it starts once per run (subset_memory_child.cpp), so every measurement
// starts from a clean process whose resident memory is only what that load touched.
#pragma once

#include <cstdint>
#include <string>

#include "app/cli/args.h"
#include "bench/proc_memory.h"

namespace moescope::bench {

// What one measured process reports (one JSON line on stdout).
struct RunReport {
  ProcMemory before;          // at start, before loading: the program itself
  ProcMemory loaded;          // right after Model::load
  ProcMemory forwarded;       // after one forward pass over `tokens` tokens (hwm = the peak)
  uint64_t resident_bytes = 0;  // the engine's own count of the weights it holds
  double load_seconds = 0, forward_seconds = 0, mean_nll = 0;
  int tokens = 0;
};

// The child: --model DIR [--keep FILE] --precision P --tokens N --threads T. Prints a RunReport.
int run_measured_child(const cli::Args& args);

std::string report_to_json(const RunReport& r);
RunReport report_from_json(const std::string& text);

}  // namespace moescope::bench
