#!/usr/bin/env bash
# The Python package's tests (docs/PYTHON.md), run by tools/test.sh after the C++ suites: a virtual
# environment in build/python-venv, `pip install .` (the extension module built into build/python/
# from the same sources as moescope-cli), then pytest over tests/python/: every Routing field
# against build/moescope-cli's JSON, workspaces against a CLI trace, the CLI's errors, an
# interrupted trace resuming, and examples/emo_story.ipynb run top to bottom.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# The build tools in the environment itself, so the build folder's CMake cache stays valid between runs.
"$venv/bin/python" -m pip install -q "scikit-build-core>=0.10" "nanobind>=2.4"
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
  "$venv/bin/python" -m pip install -q --no-build-isolation ".[test]"
cd tests/python
"../../$venv/bin/python" -m pytest -q -p no:cacheprovider
