// blas_core.cpp — OpenBLAS kernels matched to the CPU's features (see blas_core.h).
#include "engine/cpu/blas_core.h"

#include <unistd.h>

#include <cstdlib>

#ifdef EIGEN_USE_BLAS
extern "C" char* openblas_get_corename(void);
#endif

namespace moescope {

std::string blas_core_name() {
#ifdef EIGEN_USE_BLAS
  const char* name = openblas_get_corename();
  return name ? name : "";
#else
  return "";
#endif
}

std::string blas_core_for_cpu_features() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();  // the checks include the OS's support for the AVX / AVX-512 register state
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
  if (__builtin_cpu_supports("sse4.2")) return "Nehalem";
#endif
  return "";
}

void match_blas_kernels_to_cpu(char** argv) {
#ifdef EIGEN_USE_BLAS
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or this is the restarted program
  if (blas_core_name() != "Prescott") return;     // OpenBLAS recognised the CPU
  const std::string core = blas_core_for_cpu_features();
  if (core.empty()) return;                       // a CPU that old really gets the generic kernels
  if (::setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  ::unsetenv("OPENBLAS_CORETYPE");  // exec failed (no /proc?): go on with the generic kernels
#else
  (void)argv;
#endif
}

}  // namespace moescope
