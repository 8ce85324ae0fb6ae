#!/usr/bin/env bash
# Configures and builds moescope in build/ (Release). Extra arguments go to cmake's configure.
set -euo pipefail
cd "$(dirname "$0")/.."
# Configure quietly but for the one line per optional dependency saying whether it is used.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" | { grep -E '^-- moescope' || true; }
cmake --build build -j "$(nproc)"
