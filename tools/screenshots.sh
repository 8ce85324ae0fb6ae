#!/usr/bin/env bash
# Regenerates the screenshots of docs/APP.md and the README (docs/screenshots/*.png) with `moescope --screenshot`
# under Xvfb: the EMO sample model, the held-out sample corpus traced with both sample models.
#   bash tools/screenshots.sh      (after tools/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/moescope-cli
out=docs/screenshots
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for m in emo std; do
  "$cli" trace --model samples/models/$m-sample --corpus samples/corpus/heldout.jsonl --workspace "$work/$m.moescope" \
    --max-tokens-per-doc 128 > /dev/null 2>&1
done
mkdir -p "$out"
for view in model text corpus groups subsets compare; do
  script="$work/$view.script"
  : > "$script"
  # The Subsets view shows a finished ablation sweep; the Text view a pinned token.
  [ "$view" = subsets ] && printf 'subset lang_de global 4\nablate\n' > "$script"
  [ "$view" = text ] && printf 'pin 12\n' > "$script"
  HOME="$work" xvfb-run -a -s '-screen 0 1600x1000x24' build/moescope --workspace "$work/emo.moescope" \
    --compare-workspace "$work/std.moescope" --view "$view" --script "$script" --screenshot "$out/$view.png"
done
