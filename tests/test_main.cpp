// test_main.cpp — the doctest runner. OpenBLAS's kernels are matched to the CPU first, as in
// moescope-cli and the app (engine/cpu/blas_core.h), so in-process tests run what users run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "engine/cpu/blas_core.h"

int main(int argc, char** argv) {
  moescope::match_blas_kernels_to_cpu(argv);
  return doctest::Context(argc, argv).run();
}
