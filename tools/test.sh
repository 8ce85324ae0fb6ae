#!/usr/bin/env bash
# The README's test command: install dependencies, build everything, run every test suite (the
# C++ suites through ctest, then the Python package's: tools/test-python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
ctest --test-dir build --output-on-failure
bash tools/test-python.sh
