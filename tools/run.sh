#!/usr/bin/env bash
# The README's main command: install, build, and show moescope on the built-in sample model.
# The desktop GUI and the trained sample models arrive with their own issues; until then this
# routes a sample text through the bundled tiny EMO checkpoint with moescope-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
model=tests/fixtures/models/emo-shared
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo
  echo "No display found: the desktop window cannot open here. Everything is available headless"
  echo "through build/moescope-cli (see README.md, 'CLI reference'); for example:"
fi
echo
echo "\$ build/moescope-cli info --model $model"
build/moescope-cli info --model "$model"
echo
echo "\$ build/moescope-cli route --model $model --text 'The experts of a mixture route every token.'"
build/moescope-cli route --model "$model" --text "The experts of a mixture route every token."
