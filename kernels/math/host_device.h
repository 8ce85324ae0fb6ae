// host_device.h — MOESCOPE_HD marks a function that nvcc compiles for the GPU and the host and g++
// compiles as plain C++, so each kernel's per-element math is tested on the CPU (tests/kernels/).
#pragma once

#if defined(__CUDACC__)
#define MOESCOPE_HD __host__ __device__ __forceinline__
#else
#define MOESCOPE_HD inline
#endif

#include <cmath>
#include <cstdint>

namespace moescope::kmath {

MOESCOPE_HD int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

}  // namespace moescope::kmath
