// cuda_check.h — every CUDA runtime and cuBLAS call is checked; a failure throws moescope::Error
// naming the call and the library's own message (out of memory, an illegal address, ...).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "engine/error.h"

namespace moescope::cuda {

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("CUDA", std::string(what) + ": " + cudaGetErrorString(e));
}

inline void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) fail("cuBLAS", std::string(what) + ": " + cublasGetStatusString(s));
}

// After a kernel launch: a bad launch configuration shows up here, a fault at the next sync.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace moescope::cuda
