// blas_core.h — OpenBLAS's kernels matched to this CPU. Debian's OpenBLAS (0.3.21, built for every
// x86-64 core) picks its kernels by the CPU's model number; on virtual machines that hide the model
// (CPUID names a generic "Intel Xeon Processor") it falls back to its Prescott (SSE3) kernels:
// measured on such a 2-core VM, sgemm 31.6 GFLOP/s instead of 180, and FP32 results that change
// with the thread count. OpenBLAS reads OPENBLAS_CORETYPE only while it loads, before main(), so
// the remedy is to start the program once more with that variable set from the CPU's features.
#pragma once

#include <string>

namespace moescope {

// Call first thing in main(), before any thread or MPI starts. When OpenBLAS fell back to its
// generic Prescott kernels on a CPU with AVX or later, re-executes this program (same arguments,
// same process id) with OPENBLAS_CORETYPE set to the family the CPU's features allow. Does nothing
// when OPENBLAS_CORETYPE is already set (by the user or by the restart), without OpenBLAS, or when
// the kernels match; if the restart fails the program goes on with the kernels it has.
void match_blas_kernels_to_cpu(char** argv);

// The kernel family OpenBLAS runs ("SkylakeX", "Haswell", ...), "" in builds without OpenBLAS.
std::string blas_core_name();

// The OPENBLAS_CORETYPE the CPU's features allow (AVX-512 -> SkylakeX, AVX2 + FMA -> Haswell,
// AVX -> Sandybridge, SSE4.2 -> Nehalem), "" when none of these or not x86-64.
std::string blas_core_for_cpu_features();

}  // namespace moescope
