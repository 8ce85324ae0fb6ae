#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ (GCC, -O1,
# assertions on) and runs the whole test suite there; any sanitizer report fails the run.
#   SANITIZE_JOBS=$(nproc)   parallel compile jobs
# Leaks inside system libraries we do not build (Mesa's GL driver, fontconfig) are suppressed by
# tools/lsan.supp; every leak in moescope's own code still fails.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
jobs=${SANITIZE_JOBS:-$(nproc)}
cmake -S . -B "$build" -DMOESCOPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" >/dev/null
cmake --build "$build" -j "$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
ctest --test-dir "$build" --output-on-failure
