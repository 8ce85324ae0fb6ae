// one_thread.h — one CPU thread while a test's in-process forwards run: they are tiny, and OpenMP
// barriers on a busy machine (CI, parallel builds) cost more than the work. Results do not
// depend on the thread count.
#pragma once

#include "engine/cpu/cpu_ops.h"

namespace moescope::test {
struct OneThread {
  int before = cpu_threads();
  OneThread() { set_cpu_threads(1); }
  ~OneThread() { set_cpu_threads(before); }
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;
};
}  // namespace moescope::test
