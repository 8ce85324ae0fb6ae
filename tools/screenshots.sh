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
# Stored ablation sweeps of both models (every domain): the Subsets view overlays their mean curves.
for m in emo std; do
  "$cli" subset ablate --workspace "$work/$m.moescope" --random-seeds 2 > /dev/null 2>&1
done
mkdir -p "$out"
shot() {  # shot NAME VIEW SCRIPT-LINES [extra app options]
  local name=$1 view=$2 lines=$3
  shift 3
  printf "$lines" > "$work/$name.script"
  HOME="$work" xvfb-run -a -s '-screen 0 1600x1000x24' build/moescope --workspace "$work/emo.moescope" \
    --compare-workspace "$work/std.moescope" --view "$view" --script "$work/$name.script" --screenshot "$out/$name.png" "$@"
}
shot model model ''
shot text text 'pin 12\n'
shot corpus corpus 'corpus-tab domain-expert\nexpert-blocks on\n'
shot corpus-usage corpus 'corpus-tab usage\n'
shot groups groups 'layer 0\n' --frames 60
shot subsets subsets 'subset lang_de global 4\n'
shot compare compare 'expert-blocks on\n'
shot explore explore 'corpus-tab clusters\ncluster 8\nview explore\nsearch court\n'
# A pruned checkpoint says what it was pruned from.
"$cli" subset select --workspace "$work/emo.moescope" --domain lang_de --experts 4 --out "$work/de.json" > /dev/null
"$cli" subset export --model samples/models/emo-sample --keep "$work/de.json" --out "$work/emo-de" > /dev/null
shot model-pruned model '' --model "$work/emo-de"
# The ablation figure `render` draws: EMO vs the standard model, mean over domains.
"$cli" render --workspace "$work/emo.moescope" --compare-workspace "$work/std.moescope" --what ablation --k 4 \
  --out "$out/ablation-render.png" > /dev/null
# The domain x expert heatmaps `render` draws for both models: one colour scale, experts in blocks.
"$cli" render --workspace "$work/emo.moescope" --compare-workspace "$work/std.moescope" --what domain-heatmap \
  --order blocks --out "$out/domain-heatmap-render.png" > /dev/null
