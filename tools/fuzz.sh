#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with Clang, ASan and UBSan in build-fuzz/, replays the
# committed crash inputs (tests/fuzz/regressions/<target>/), then fuzzes each target for a bounded
# time from its seeds (tests/fuzz/seeds/<target>/). Exits non-zero when any target crashes and
# prints where libFuzzer saved the input.
#   tools/fuzz.sh [TARGET...]     targets: safetensors config tokenizer_json tokenizer_encode corpus subset workspace
#   FUZZ_SECONDS=20               fuzzing time per target
#   FUZZ_JOBS=$(nproc)            parallel compile jobs
# Needs clang, libclang-rt-14-dev (libFuzzer) and libomp-dev (tools/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-fuzz
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}
all=(safetensors config tokenizer_json tokenizer_encode corpus subset workspace)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.cpp" ] || { echo "fuzz.sh: unknown target '$t' (one of: ${all[*]})" >&2; exit 2; }
done

# Debug keeps assertions (nlohmann's included) on; -O1 keeps the fuzzers fast enough.
CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$build" -DMOESCOPE_FUZZ=ON -DMOESCOPE_TESTS=OFF \
  -DMOESCOPE_GUI=OFF -DMOESCOPE_CUDA=OFF -DMOESCOPE_OPENBLAS=OFF -DMOESCOPE_DNNL=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" >/dev/null
cmake --build "$build" -j "$jobs" --target $(printf 'fuzz_%s ' "${targets[@]}")

# Scratch files of the targets; a crashed run cannot remove its own.
export TMPDIR=$build/tmp
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
summary=()
for t in "${targets[@]}"; do
  bin=$build/fuzz_$t
  crashes=$build/crashes/$t
  corpus=$build/corpus/$t   # grows across runs; the committed seeds are never written to
  mkdir -p "$crashes" "$corpus"
  log=$build/fuzz_$t.log
  : >"$log"

  regressions=(tests/fuzz/regressions/$t/*)
  if [ -e "${regressions[0]}" ]; then
    echo "== fuzz_$t: replaying ${#regressions[@]} regression input(s)"
    if ! "$bin" -runs=1 "${regressions[@]}" >>"$log" 2>&1; then
      echo "fuzz.sh: fuzz_$t crashes on a committed regression input (log: $log)" >&2
      tail -n 30 "$log" >&2
      failed+=("$t")
      summary+=("fuzz_$t: REGRESSION")
      continue
    fi
  fi

  echo "== fuzz_$t: fuzzing for ${seconds}s"
  before=$(ls "$crashes" | wc -l)
  dict=()
  [ -f "tests/fuzz/dicts/$t.dict" ] && dict=(-dict="tests/fuzz/dicts/$t.dict")
  rc=0
  "$bin" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$crashes/" "$corpus" "tests/fuzz/seeds/$t" >>"$log" 2>&1 || rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
  if [ "$rc" -ne 0 ] || [ "$(ls "$crashes" | wc -l)" -ne "$before" ]; then
    echo "fuzz.sh: fuzz_$t FAILED (exit $rc) after ${runs:-?} runs; log: $log" >&2
    grep -E 'ERROR: |BUG: |runtime error|==ERROR|SUMMARY' "$log" | head -n 5 >&2 || true
    grep -E '^(artifact_prefix|Test unit written to)' "$log" | sed 's/^/  /' >&2 || true
    echo "  reproduce: $bin <input>   (minimize: $bin -minimize_crash=1 -runs=100000 <input>)" >&2
    failed+=("$t")
    summary+=("fuzz_$t: CRASH after ${runs:-?} runs")
  else
    summary+=("fuzz_$t: ok, ${runs:-?} runs in ${seconds}s")
  fi
done

echo "== summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} target(s) failed: ${failed[*]} (inputs under $build/crashes/)" >&2
  exit 1
fi
