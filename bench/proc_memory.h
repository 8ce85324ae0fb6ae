// proc_memory.h — this process's memory as the kernel counts it (/proc/self/status), for the
// memory benchmarks: resident now, its peak, and the anonymous / file-backed split.
#pragma once

#include <cstdint>

namespace moescope {

struct ProcMemory {
  uint64_t rss = 0;       // VmRSS: resident now (bytes)
  uint64_t hwm = 0;       // VmHWM: peak resident since the process started
  uint64_t rss_anon = 0;  // RssAnon: heap, widened weights, activations
  uint64_t rss_file = 0;  // RssFile: touched pages of mapped files (weights used in place, code)
};

// Throws Error when /proc/self/status is unreadable or lacks a field (not Linux?).
ProcMemory read_proc_memory();

}  // namespace moescope
