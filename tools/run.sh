#!/usr/bin/env bash
# The README's main command: install, build, and open moescope on the built-in EMO-style sample
# model with the held-out sample corpus traced. On a machine without a display it says so and
# shows the same things headless with moescope-cli: the model, a routed text, the traced corpus
# analysed, and figures written as PNG.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
bash tools/build.sh
model=samples/models/emo-sample
corpus=samples/corpus/heldout.jsonl
ws=build/sample-heldout.moescope
figs=build/figures
cli=build/moescope-cli
run() { echo; echo "\$ $*"; "$@"; }
# The held-out corpus: 22 domains, ~1250 documents; the first 128 tokens of each (about 20 s the
# first time; a re-run resumes the same workspace instantly).
run "$cli" trace --model "$model" --corpus "$corpus" --workspace "$ws" --max-tokens-per-doc 128
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x build/moescope ]; then
  # The standard-routing sample's trace too, for the Compare view.
  run "$cli" trace --model samples/models/std-sample --corpus "$corpus" --workspace build/sample-heldout-std.moescope \
    --max-tokens-per-doc 128
  exec build/moescope --model "$model" --workspace "$ws" --compare-workspace build/sample-heldout-std.moescope
fi
echo
echo "No display found: the desktop window cannot open here. Everything is available headless"
echo "through $cli (docs/CLI.md); this is what it shows on the sample model:"
run "$cli" info --model "$model"
run "$cli" route --model "$model" --text "The experts of a mixture route every token; def route(x): return x"
run "$cli" analyze --workspace "$ws" --clusters 22
mkdir -p "$figs"
run "$cli" render --workspace "$ws" --what domain-heatmap --out "$figs/domain-heatmap.png"
run "$cli" render --workspace "$ws" --what similarity --out "$figs/domain-similarity.png"
run "$cli" render --workspace "$ws" --what entropy --out "$figs/entropy.png"
echo
echo "Figures are in $figs/. Compare with the standard-routing sample: samples/models/std-sample."
