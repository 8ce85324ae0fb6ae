// gpu_tests.h — whether the GPU tests ("cuda backend: ...") can run here. Without a CUDA device
// (or without the CUDA backend in this build) they skip, and say so in one line, once.
#pragma once

#include <cstdio>

#include "kernels/cuda_device.h"

namespace moescope::test {

inline bool cuda_tests_can_run() {
  const CudaDeviceInfo& info = cuda_device_info();
  static const bool said = [&] {
    if (!info.available) std::printf("skipped: the GPU tests (cuda backend: ...): %s\n", info.reason.c_str());
    return true;
  }();
  (void)said;
  return info.available;
}

}  // namespace moescope::test
