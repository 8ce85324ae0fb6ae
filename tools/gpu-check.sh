#!/usr/bin/env bash
# gpu-check.sh — the CUDA backend's checks on a lent GPU machine, in one bounded run (docs/GPU.md).
#
#   tools/gpu-check.sh --prepare   HERE: build build-gpu/ (CUDA on, no -march=native, no OpenBLAS /
#                                  oneDNN / MPI / GUI) and pack the binaries and the shared libraries
#                                  the GPU machine lacks into build-gpu/carry/moescope-gpu.tar.xz.
#   tools/gpu-check.sh [--quick]   THERE (repo root, carry ["build-gpu/carry"]): unpack, record the
#                                  machine, run the GPU and kernel tests, compute-sanitizer memcheck and
#                                  racecheck on the GPU tests, and (unless --quick) the prefill benchmark
#                                  bench/gpu_prefill_vs_transformers.py; write ${OUT:-./gpu-check-out}/report.md.
#   tools/gpu-check.sh --bench-only   THERE: the machine record and the benchmark alone.
#
# Every step has a time limit and a recorded result; a failing step never stops the next one.
# Environment (run mode): GPU_CHECK_SECONDS (whole-run budget, default 540), GPU_CHECK_MODEL_DIR
# (where the benchmark's 27 GB checkpoint goes; default /tmp/moescope-gpu-bench, else build-gpu/bench-model,
# whichever has 30 GB free), GPU_CHECK_BENCH_ARGS (more options for the benchmark script, e.g. --tiny).
# Environment (--prepare): GPU_CHECK_JOBS (compile jobs, default nproc).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT" || exit 1
BUILD=build-gpu
CARRY=$BUILD/carry
TARBALL=$CARRY/moescope-gpu.tar.xz
MAX_TARBALL=$((14 * 1024 * 1024))   # the tree (~48 MB) + carried paths must stay within 64 MiB
MAX_TRAVEL=$((64 * 1024 * 1024))
TARGETS=(moescope-cli moescope-tests make-synthetic-checkpoint moescope-peak-rss)
GPU_TESTS='cuda backend*'
ALL_TESTS='cuda backend*,kernel*'

usage() {
  sed -n '2,/^set -uo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }

# ----------------------------------------------------------------------------------------------
# --prepare: runs on the build machine (Debian 12 with tools/install-deps.sh and /usr/local/cuda).
# ----------------------------------------------------------------------------------------------

# Shared libraries the GPU machine provides itself: glibc's own, the driver, and CUDA 13's.
system_lib() {
  case "$1" in
    linux-vdso.so* | ld-linux*.so* | libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | libdl.so.* | \
      librt.so.* | libutil.so.* | libresolv.so.* | libanl.so.* | libnsl.so.* | libBrokenLocale.so.* | \
      libcuda.so* | libcublas.so* | libcublasLt.so* | libcudart.so* | libnvidia-*.so*) return 0 ;;
  esac
  return 1
}

prepare() {
  set -e
  local nvcc=${CUDACXX:-/usr/local/cuda/bin/nvcc}
  command -v cmake >/dev/null || { echo "gpu-check --prepare: cmake not found (tools/install-deps.sh)" >&2; exit 1; }
  [ -x "$nvcc" ] || command -v nvcc >/dev/null ||
    { echo "gpu-check --prepare: no nvcc at $nvcc: the CUDA Toolkit (13) must be in /usr/local/cuda to build kernels/" >&2; exit 1; }
  mkdir -p "$BUILD"
  local gen=()
  if [ ! -f "$BUILD/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
  echo "== configure $BUILD/ (CUDA on; native, OpenBLAS, oneDNN, MPI, GUI off)"
  # $ORIGIN/lib: the unpacked binaries find the carried libraries beside them even without LD_LIBRARY_PATH.
  if ! cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DMOESCOPE_CUDA=ON -DMOESCOPE_NATIVE=OFF -DMOESCOPE_OPENBLAS=OFF -DMOESCOPE_DNNL=OFF \
      -DMOESCOPE_MPI=OFF -DMOESCOPE_GUI=OFF -DMOESCOPE_TESTS=ON \
      '-DCMAKE_BUILD_RPATH=$ORIGIN/lib' >"$BUILD/configure.log" 2>&1; then
    cat "$BUILD/configure.log" >&2
    echo "gpu-check --prepare: configure failed (log above, also $BUILD/configure.log)" >&2
    exit 1
  fi
  grep -E '^-- moescope' "$BUILD/configure.log" || true
  local jobs=${GPU_CHECK_JOBS:-$(nproc)}
  echo "== build ${TARGETS[*]} (-j$jobs; output in $BUILD/build.log)"
  local t0=$SECONDS
  if ! cmake --build "$BUILD" -j "$jobs" --target "${TARGETS[@]}" >"$BUILD/build.log" 2>&1; then
    grep -E 'error|Error|FAILED' "$BUILD/build.log" | head -40 >&2
    tail -20 "$BUILD/build.log" >&2
    echo "gpu-check --prepare: the build failed (above; whole log: $BUILD/build.log)" >&2
    exit 1
  fi
  echo "built in $((SECONDS - t0)) s ($(grep -c 'warning:' "$BUILD/build.log") compiler warnings in the log)"

  echo "== package"
  local stage=$BUILD/carry-stage
  rm -rf "$stage"
  mkdir -p "$stage/lib"
  local t name path missing=""
  for t in "${TARGETS[@]}"; do
    strip --strip-unneeded -o "$stage/$t" "$BUILD/$t"
  done
  # Every library ldd resolves for any of the programs (transitively), less the system's own.
  while read -r name path; do
    if [ "$path" = "not" ]; then missing+=" $name"; continue; fi
    system_lib "$name" && continue
    cp -L "$path" "$stage/lib/$name"
    chmod 644 "$stage/lib/$name"
  done < <(for t in "${TARGETS[@]}"; do ldd "$BUILD/$t"; done | awk '$2 == "=>" { print $1, $3 }' | sort -u)
  if [ -n "$missing" ]; then
    echo "gpu-check --prepare: ldd finds no$missing for the built programs" >&2
    exit 1
  fi
  local src bin_dir glibc commit
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")
  bin_dir=$(sed -n 's/^moescope_BINARY_DIR:STATIC=//p' "$BUILD/CMakeCache.txt")
  glibc=$(objdump -T "$stage"/moescope-* "$stage"/make-* "$stage"/lib/* 2>/dev/null |
            grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V | tail -1)
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit+=" + uncommitted changes"; fi
  {
    echo "source_dir=$src"
    echo "build_dir=$bin_dir"
    echo "commit=$commit"
    echo "cuda_architectures=$(sed -n 's/^MOESCOPE_CUDA_ARCHITECTURES:STRING=//p' "$BUILD/CMakeCache.txt")"
    echo "nvcc=$("$nvcc" --version 2>/dev/null | grep -o 'release [0-9.]*' || echo unknown)"
    echo "glibc_needed=${glibc:-unknown}"
    echo "programs=${TARGETS[*]}"
    echo "libs=$(cd "$stage/lib" && ls | tr '\n' ' ')"
  } >"$stage/MANIFEST.txt"

  # Repack only when the contents changed (the second run is then a no-op but for the build check).
  local stamp
  stamp=$( (cd "$stage" && sha256sum moescope-* make-* lib/* MANIFEST.txt) | sha256sum | cut -c1-64)
  mkdir -p "$CARRY"
  if [ -f "$TARBALL" ] && [ "$(cat "$BUILD/carry.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "unchanged since the last --prepare: $TARBALL kept"
  else
    find "$CARRY" -mindepth 1 -delete
    tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner -cf - . | xz -T0 -9 >"$TARBALL.tmp"
    mv "$TARBALL.tmp" "$TARBALL"
    echo "$stamp" >"$BUILD/carry.stamp"
  fi
  cp "$stage/MANIFEST.txt" "$CARRY/MANIFEST.txt"

  local size tree travel
  size=$(stat -c %s "$TARBALL")
  # What the run tool sends: tracked + untracked-not-ignored files, plus the carried folder.
  tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null |
           awk '{ s += $1 } END { print s + 0 }')
  travel=$((tree + $(du -sb "$CARRY" | cut -f1)))
  echo
  sed 's/^/  /' "$stage/MANIFEST.txt"
  echo "tarball: $TARBALL  $(mib "$size") (limit $(mib $MAX_TARBALL))"
  echo "travels: tree $(mib "$tree") + carry = $(mib "$travel") of $(mib $MAX_TRAVEL)"
  if [ "$size" -gt "$MAX_TARBALL" ]; then
    echo "gpu-check --prepare: the tarball is over $(mib $MAX_TARBALL)" >&2
    exit 1
  fi
  if [ "$travel" -gt "$MAX_TRAVEL" ]; then
    echo "gpu-check --prepare: the tree plus the carried folder are over 64 MiB" >&2
    exit 1
  fi
  echo
  echo "Run it on the GPU machine with the device tool:"
  echo "  run  command: tools/gpu-check.sh          (or: tools/gpu-check.sh --quick, no benchmark)"
  echo "       carry:   [\"$CARRY\"]"
  echo "       timeout_s: 600"
}

# ----------------------------------------------------------------------------------------------
# Run mode: on the GPU machine (or here, as a smoke test that finds no device).
# ----------------------------------------------------------------------------------------------

OUT_DIR=""
START=$SECONDS
DEADLINE=${GPU_CHECK_SECONDS:-540}
STEP_ROWS=()     # "name|result|numbers|log"
FAILED=0

elapsed() { echo $((SECONDS - START)); }

# Seconds a step may take: what it asks for, or what is left of the run's budget (20 s kept for the report).
budget() {
  local want=$1 left=$((DEADLINE - (SECONDS - START) - 20))
  [ "$left" -lt "$want" ] && want=$left
  [ "$want" -lt 5 ] && want=0
  echo "$want"
}

record() {  # name result numbers log
  STEP_ROWS+=("$1|$2|$3|$4")
  case "$2" in FAIL* | TIMEOUT*) FAILED=1 ;; esac
  echo "-- $1: $2${3:+ ($3)}"
}

# A result word from an exit status (timeout(1) exits 124, or 137 after its -k kill).
result_of() {
  case "$1" in
    0) echo PASS ;;
    124 | 137) echo "TIMEOUT after ${2}s" ;;
    *) echo "FAIL (exit $1)" ;;
  esac
}

run_checks() {
  local mode=$1   # full, quick (no benchmark) or bench (the benchmark only)
  OUT_DIR=${OUT:-$ROOT/gpu-check-out}
  mkdir -p "$OUT_DIR"
  OUT_DIR=$(cd "$OUT_DIR" && pwd -P)
  local env_log=$OUT_DIR/env.log
  : >"$env_log"
  echo "gpu-check: writing to $OUT_DIR (budget ${DEADLINE}s)"

  # --- unpack --------------------------------------------------------------------------------
  local bin=$BUILD/unpacked manifest_src="" start_ok=1 start_why=""
  if [ ! -f "$TARBALL" ]; then
    start_ok=0
    start_why="no $TARBALL: run tools/gpu-check.sh --prepare on the build machine and carry [\"$CARRY\"]"
  else
    rm -rf "$bin" && mkdir -p "$bin"
    if ! tar -C "$bin" -xJf "$TARBALL" 2>>"$env_log"; then
      start_ok=0
      start_why="$TARBALL did not unpack (see env.log)"
    fi
    manifest_src=$(sed -n 's/^source_dir=//p' "$bin/MANIFEST.txt" 2>/dev/null)
  fi
  bin=$(cd "$bin" 2>/dev/null && pwd -P || echo "$ROOT/$bin")

  # The CUDA libraries: the toolkit's, else the cuBLAS that PyTorch's nvidia-cublas wheel carries.
  local cuda_libs="" d
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
    if [ -e "$d/libcublas.so.13" ]; then cuda_libs=$d; break; fi
  done
  if [ -z "$cuda_libs" ] && command -v python3 >/dev/null; then
    cuda_libs=$(python3 - 2>/dev/null <<'EOF'
import os
try:
    import nvidia
    for base in nvidia.__path__:
        for dirpath, _, files in os.walk(base):
            if "libcublas.so.13" in files:
                print(dirpath)
                raise SystemExit
except ImportError:
    pass
EOF
    )
  fi
  local libpath=$bin/lib
  [ -n "$cuda_libs" ] && libpath+=":$cuda_libs"
  [ -d /usr/local/cuda/lib64 ] && [ "$cuda_libs" != /usr/local/cuda/lib64 ] && libpath+=":/usr/local/cuda/lib64"
  [ -n "${LD_LIBRARY_PATH:-}" ] && libpath+=":$LD_LIBRARY_PATH"

  # The test binary looks for fixtures and the CLI under the folder it was built in.
  local path_note=""
  if [ "$start_ok" = 1 ] && [ -n "$manifest_src" ]; then
    if [ "$manifest_src" -ef "$ROOT" ]; then
      path_note="repo at the build path $manifest_src"
    elif [ ! -e "$manifest_src" ] && mkdir -p "$(dirname "$manifest_src")" 2>/dev/null && ln -s "$ROOT" "$manifest_src" 2>/dev/null; then
      path_note="linked $manifest_src -> $ROOT (the tests' fixture and CLI paths)"
    else
      path_note="WARNING: the tests look for fixtures and the CLI under $manifest_src, which is not this repo ($ROOT); tests using them may fail"
    fi
    # The CLI path baked into the tests: $BUILD/<program>; a build folder here keeps its own programs.
    local t
    for t in "${TARGETS[@]}"; do
      [ -e "$BUILD/$t" ] || ln -s "unpacked/$t" "$BUILD/$t"
    done
  fi

  # --- environment -----------------------------------------------------------------------------
  local have_gpu=0 gpu_line="none" nvcc_line="not found" san="" san_line="not found" glibc_here
  {
    echo "# gpu-check environment, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "host: $(uname -n) | $(uname -srm) | $(nproc) CPUs | $(awk '/^MemTotal:/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "disk (repo): $(df -h . | awk 'NR == 2 { print $4 " free of " $2 }')"
    echo "disk (/tmp): $(df -h /tmp | awk 'NR == 2 { print $4 " free of " $2 }')"
    echo "glibc: $(ldd --version 2>&1 | head -1)"
    echo "repo: $ROOT"
    echo "paths: ${path_note:-n/a}"
    echo "LD_LIBRARY_PATH for moescope: $libpath"
    echo "cuBLAS 13 from: ${cuda_libs:-NOT FOUND}"
    echo
    echo "## carried build"
    cat "$bin/MANIFEST.txt" 2>/dev/null || echo "(no MANIFEST.txt)"
    echo
    echo "## nvidia-smi"
  } >>"$env_log"
  if command -v nvidia-smi >/dev/null; then
    timeout 30 nvidia-smi >>"$env_log" 2>&1
    gpu_line=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null | head -1)
    [ -n "$gpu_line" ] && have_gpu=1
  else
    echo "nvidia-smi: not found (no NVIDIA driver on this machine)" >>"$env_log"
  fi
  local nvcc
  nvcc=$(command -v nvcc || { [ -x /usr/local/cuda/bin/nvcc ] && echo /usr/local/cuda/bin/nvcc; })
  if [ -n "$nvcc" ]; then
    { echo; echo "## nvcc --version"; "$nvcc" --version; } >>"$env_log" 2>&1
    nvcc_line=$("$nvcc" --version 2>/dev/null | grep -o 'release [0-9.]*, V[0-9.]*' | head -1)
  fi
  san=$(command -v compute-sanitizer || { [ -x /usr/local/cuda/bin/compute-sanitizer ] && echo /usr/local/cuda/bin/compute-sanitizer; })
  if [ -n "$san" ]; then
    san_line=$("$san" --version 2>/dev/null | grep -io 'version [0-9.]*' | head -1)
    { echo; echo "## compute-sanitizer: $san ${san_line}"; } >>"$env_log"
  fi
  { echo; echo "## python3"; timeout 60 python3 -c 'import sys, torch, transformers; print(sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'; } >>"$env_log" 2>&1
  glibc_here=$(ldd --version 2>&1 | head -1 | grep -o '[0-9]\+\.[0-9]\+$')

  # Do the binaries start?
  if [ "$start_ok" = 1 ]; then
    local missing="" t out
    { echo; echo "## ldd"; } >>"$env_log"
    for t in "${TARGETS[@]}"; do
      out=$(env LD_LIBRARY_PATH="$libpath" ldd "$bin/$t" 2>&1)
      { echo "### $t"; echo "$out"; } >>"$env_log"
      missing+=$(echo "$out" | awk '/not found/ { printf " %s", $1 }')
    done
    missing=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/^ *//; s/ *$//')
    if [ -n "$missing" ]; then
      start_ok=0
      start_why="missing shared libraries: $missing (see docs/GPU.md, 'If the binaries do not start')"
    else
      { echo; echo "## moescope-cli help; moescope-tests --version"; } >>"$env_log"
      if ! env LD_LIBRARY_PATH="$libpath" timeout 30 "$bin/moescope-cli" help >/dev/null 2>>"$env_log"; then
        start_ok=0
        start_why="moescope-cli help did not run (see env.log)"
      elif ! env LD_LIBRARY_PATH="$libpath" timeout 30 "$bin/moescope-tests" --version >>"$env_log" 2>&1; then
        start_ok=0
        start_why="moescope-tests --version did not run (see env.log)"
      fi
    fi
    if [ "$start_ok" = 1 ]; then
      { echo; echo "## moescope-cli info --model samples/models/emo-sample --json (device)"; } >>"$env_log"
      env LD_LIBRARY_PATH="$libpath" timeout 60 "$bin/moescope-cli" info --model samples/models/emo-sample --json 2>&1 |
        grep -E '"(device|gpu_memory|all_experts_bytes|device_bytes|fits)"' >>"$env_log"
    fi
  fi
  local env_numbers="GPU: ${gpu_line}; nvcc ${nvcc_line}; glibc ${glibc_here:-?}"
  if [ "$start_ok" = 1 ]; then
    record "binaries start" PASS "$env_numbers" env.log
  else
    record "binaries start" "FAIL" "$start_why; $env_numbers" env.log
  fi
  [ "$have_gpu" = 1 ] || echo "gpu-check: no NVIDIA GPU here (nvidia-smi finds none): GPU steps are skipped"

  # --- (a) GPU tests and the kernels' CPU tests ------------------------------------------------
  local tests_log=$OUT_DIR/tests.log limit rc t0
  if [ "$mode" = bench ]; then
    record "tests" SKIP "--bench-only" ""
  elif [ "$start_ok" != 1 ]; then
    record "tests" "SKIP" "the binaries do not start" ""
  else
    limit=$(budget 120)
    if [ "$limit" = 0 ]; then
      record "tests" "SKIP" "no time left" ""
    else
      t0=$SECONDS
      env LD_LIBRARY_PATH="$libpath" timeout -k 10 "$limit" "$bin/moescope-tests" "--test-case=$ALL_TESTS" --duration=true \
        >"$tests_log" 2>&1
      rc=$?
      local summary skip_line res
      # "[doctest] test cases: 16 | 16 passed | 0 failed | 176 skipped" -> "16 test cases: 16 passed, 0 failed"
      summary=$(awk '/^\[doctest\] test cases:/ { gsub(/\|/, " "); printf "%s test cases: %s passed, %s failed", $4, $5, $7 }
                     /^\[doctest\] assertions:/ { gsub(/\|/, " "); printf "; %s assertions, %s failed", $3, $6 }' "$tests_log")
      skip_line=$(grep -m1 'skipped:' "$tests_log" | sed 's/^.*skipped: *//' | cut -c1-200)
      res=$(result_of "$rc" "$limit")
      if [ "$rc" = 0 ] && grep -q '^\[doctest\] test cases: *0 ' "$tests_log"; then res="FAIL (no test case matched '$ALL_TESTS')"; fi
      if [ "$rc" = 0 ] && [ "$have_gpu" = 1 ] && [ -n "$skip_line" ]; then res="FAIL (a GPU is here but tests skipped)"; fi
      record "tests ($ALL_TESTS)" "$res" "${summary:-no doctest summary}${skip_line:+; skip line: $skip_line}; $((SECONDS - t0)) s" tests.log
    fi
  fi

  # --- (b) compute-sanitizer memcheck and racecheck on the GPU tests --------------------------
  local tool
  for tool in memcheck racecheck; do
    local log=$OUT_DIR/$tool.log
    if [ "$mode" = bench ]; then record "$tool" SKIP "--bench-only" ""; continue; fi
    if [ "$start_ok" != 1 ]; then record "$tool" SKIP "the binaries do not start" ""; continue; fi
    if [ "$have_gpu" != 1 ]; then record "$tool" SKIP "no GPU" ""; continue; fi
    if [ -z "$san" ]; then record "$tool" SKIP "compute-sanitizer not found" ""; continue; fi
    limit=$(budget 120)
    [ "$mode" = full ] && limit=$(budget 90)   # leave the benchmark its time
    if [ "$limit" = 0 ]; then record "$tool" SKIP "no time left" ""; continue; fi
    t0=$SECONDS
    # Children (the CLI started by tests) are checked too; a process that never starts CUDA is no error.
    env LD_LIBRARY_PATH="$libpath" timeout -k 10 "$limit" "$san" --tool "$tool" --error-exitcode 99 --print-limit 200 \
      --target-processes all --require-cuda-init=no "$bin/moescope-tests" "--test-case=$GPU_TESTS" >"$log" 2>&1
    rc=$?
    if [ "$rc" != 0 ] && [ $((SECONDS - t0)) -lt 15 ] && grep -qiE 'unrecogni[sz]ed|unknown option|invalid option' "$log"; then
      echo "gpu-check: this compute-sanitizer refused an option; again with --tool and --error-exitcode only" >>"$log"
      limit=$(budget "$limit")
      env LD_LIBRARY_PATH="$libpath" timeout -k 10 "$limit" "$san" --tool "$tool" --error-exitcode 99 \
        "$bin/moescope-tests" "--test-case=$GPU_TESTS" >>"$log" 2>&1
      rc=$?
    fi
    local found res
    if [ "$tool" = memcheck ]; then
      found=$(grep -o 'ERROR SUMMARY: [0-9]* error' "$log" | awk '{ s += $3 } END { print s + 0 }')
      found="$found errors"
    else
      found=$(grep -o 'RACECHECK SUMMARY: [0-9]* hazard' "$log" | awk '{ s += $3 } END { print s + 0 }')
      found="$found hazards ($(grep -c 'RACECHECK SUMMARY' "$log") processes)"
    fi
    res=$(result_of "$rc" "$limit")
    [ "$rc" = 99 ] && res="FAIL (sanitizer reports)"
    if grep -q 'skipped:' "$log"; then res="FAIL (the GPU tests skipped under the sanitizer)"; fi
    record "$tool ($GPU_TESTS)" "$res" "$found; $((SECONDS - t0)) s" "$tool.log"
  done

  # --- (c) the prefill benchmark ---------------------------------------------------------------
  if [ "$mode" = quick ]; then
    record "benchmark" SKIP "--quick" ""
  elif [ "$start_ok" != 1 ]; then
    record "benchmark" SKIP "the binaries do not start" ""
  elif [ "$have_gpu" != 1 ]; then
    record "benchmark" SKIP "no GPU" ""
  else
    limit=$(budget 600)
    if [ "$limit" -lt 60 ]; then
      record "benchmark" SKIP "only ${limit}s left" ""
    else
      # The checkpoint (~27 GB): GPU_CHECK_MODEL_DIR, else /tmp, else build-gpu/, whichever has 30 GB free.
      local model_dir=${GPU_CHECK_MODEL_DIR:-} cand
      if [ -z "$model_dir" ]; then
        for cand in /tmp/moescope-gpu-bench "$ROOT/$BUILD/bench-model"; do
          mkdir -p "$cand" 2>/dev/null || continue
          if [ "$(df --output=avail -B1 "$cand" | tail -1)" -gt 30000000000 ] || [ -e "$cand/olmoe-emo-1b14b-random-bf16" ]; then
            model_dir=$cand
            break
          fi
        done
        model_dir=${model_dir:-/tmp/moescope-gpu-bench}
      fi
      t0=$SECONDS
      PYTHONUNBUFFERED=1 timeout -k 20 "$limit" python3 bench/gpu_prefill_vs_transformers.py \
        --cli "$bin/moescope-cli" --cli-lib-path "$libpath" --work-dir "$model_dir" \
        --out "$OUT_DIR/bench.json" --time-limit "$((limit - 10))" ${GPU_CHECK_BENCH_ARGS:-} >"$OUT_DIR/bench.log" 2>&1
      rc=$?
      local numbers
      numbers=$(python3 - "$OUT_DIR/bench.json" 2>/dev/null <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(r.get("summary_line") or "status " + str(r.get("status")))
EOF
      )
      record "benchmark (prefill vs transformers)" "$(result_of "$rc" "$limit")" \
        "${numbers:-no bench.json}; $((SECONDS - t0)) s" "bench.log, bench.json"
    fi
  fi

  write_report "$gpu_line" "$nvcc_line" "$san_line" "$path_note" "$bin" "$have_gpu"
  # Files back from $OUT are limited to 16 MiB each: keep the head and the tail of a long log.
  local f
  for f in "$OUT_DIR"/*.log; do
    [ -f "$f" ] || continue
    if [ "$(stat -c %s "$f")" -gt $((12 * 1024 * 1024)) ]; then
      { head -c 2M "$f"; printf '\n\n[... gpu-check cut the middle of this log ...]\n\n'; tail -c 8M "$f"; } >"$f.cut" && mv "$f.cut" "$f"
    fi
  done
  echo
  cat "$OUT_DIR/report.md"
  return "$FAILED"
}

write_report() {
  local gpu=$1 nvcc=$2 san=$3 path_note=$4 bin=$5 have_gpu=$6 row name res numbers log
  local commit
  commit=$(sed -n 's/^commit=//p' "$bin/MANIFEST.txt" 2>/dev/null)
  {
    echo "# moescope GPU check"
    echo
    echo "- when: $(date -u '+%Y-%m-%d %H:%M UTC'), $(elapsed) s in all"
    if [ "$have_gpu" = 1 ]; then
      echo "- machine: GPU ${gpu}; $(nproc) CPUs; host $(uname -n)"
    else
      echo "- machine: NO GPU found (nvidia-smi missing or lists none); $(nproc) CPUs; host $(uname -n)."
      echo "  The GPU tests only print their 'skipped:' line; memcheck, racecheck and the benchmark do not run."
    fi
    echo "- nvcc: ${nvcc}; compute-sanitizer: ${san}"
    echo "- carried build: commit ${commit:-unknown}$(git rev-parse --short HEAD 2>/dev/null | sed 's/^/; repo tree here at /')"
    [ -n "$path_note" ] && echo "- paths: $path_note"
    echo
    echo "| step | result | key numbers | log |"
    echo "|---|---|---|---|"
    for row in "${STEP_ROWS[@]}"; do
      IFS='|' read -r name res numbers log <<<"$row"
      echo "| $name | $res | $numbers | $log |"
    done
    echo
    if [ "$FAILED" = 0 ]; then echo "Overall: no step failed or timed out."; else echo "Overall: at least one step FAILED or TIMED OUT."; fi
    echo
    echo "Logs, beside this file: env.log (machine, nvidia-smi, nvcc, ldd of the carried programs), tests.log,"
    echo "memcheck.log, racecheck.log, bench.log and bench.json (the benchmark's full result). See docs/GPU.md."
    if [ -f "$OUT_DIR/bench.log" ]; then
      echo
      echo "## Benchmark summary (from bench.log)"
      echo
      echo '```'
      sed -n '/^=== summary/,$p' "$OUT_DIR/bench.log" | head -40
      echo '```'
    fi
  } >"$OUT_DIR/report.md"
}

case "${1:-}" in
  --prepare) [ $# -eq 1 ] || { usage; exit 2; }; prepare ;;
  --quick) [ $# -eq 1 ] || { usage; exit 2; }; run_checks quick ;;
  --bench-only) [ $# -eq 1 ] || { usage; exit 2; }; run_checks bench ;;
  "") run_checks full ;;
  -h | --help) usage ;;
  *) echo "gpu-check: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
