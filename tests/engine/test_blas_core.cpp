// OpenBLAS's kernels fit the CPU: on a virtual machine that hides the CPU model, OpenBLAS falls
// back to its generic Prescott kernels (slow, and FP32 results that change with the thread count);
// moescope-cli, the app and this test binary restart once with OPENBLAS_CORETYPE set from the
// CPU's features (engine/cpu/blas_core.h).
#include <doctest/doctest.h>

#include <string>

#include "engine/cpu/blas_core.h"
#include "tests/app/cli_run.h"

TEST_CASE("blas kernels: never the generic fallback on a CPU with AVX, in this process and in moescope-cli") {
#ifndef EIGEN_USE_BLAS
  MESSAGE("skipped: built without OpenBLAS");
#else
  const std::string wanted = moescope::blas_core_for_cpu_features();
  MESSAGE("OpenBLAS kernels: " << moescope::blas_core_name() << "; CPU features allow: " << (wanted.empty() ? "-" : wanted));
  if (!wanted.empty()) CHECK(moescope::blas_core_name() != "Prescott");
  // The CLI started with no OPENBLAS_CORETYPE: OpenBLAS prints the kernels it loads ("Core: X") each
  // time it starts, so a restart shows two lines and the last one is what runs.
  const moescope::test::Run r = moescope::test::run_command(
      "env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 " + moescope::test::cli_command({"tokenize", "--tokenizer",
      moescope::test::fixtures_dir() + "/models/tiny-tokenizer.json", "--text", "hi"}));
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const size_t at = r.err.rfind("Core: ");
  REQUIRE_MESSAGE(at != std::string::npos, r.err);
  const std::string core = r.err.substr(at + 6, r.err.find('\n', at) - at - 6);
  if (!wanted.empty()) CHECK(core != "Prescott");
  if (r.err.find("Core: Prescott") != std::string::npos && !wanted.empty()) CHECK(core == wanted);
#endif
}
