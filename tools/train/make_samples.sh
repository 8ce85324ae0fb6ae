#!/usr/bin/env bash
# Rebuilds samples/ from scratch: the corpus from Debian packages, the tokenizer, both sample
# models, and the results table (samples/results.json, printed as markdown).
#   bash tools/train/make_samples.sh [PYTHON]
# PYTHON: an interpreter with torch, tokenizers, safetensors and numpy (default python3).
# Needs apt-get/dpkg-deb (Debian) and groff-base; about 5 minutes for the corpus, 1.5 hours for the
# two models on 2 cores (one after the other, 2 threads each: the committed samples were made this
# way, and float results depend on the thread count), 15 minutes to evaluate.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:-python3}
WORK=build/corpus
"$PY" tools/corpus/build_corpus.py --work "$WORK"
"$PY" tools/train/train_tokenizer.py --corpus "$WORK/train.jsonl" --out build/train/tokenizer.json
bash tools/build.sh
"$PY" tools/train/train.py --router emo --corpus "$WORK/train.jsonl" --tokenizer build/train/tokenizer.json \
  --out build/train --tokenize-only
# The recipe of the committed pair (train.py's defaults, spelled out): global load balancing 0.04
# over all standard experts' softmax (for emo-sample before its pool mask); EMO's pool size drawn
# from [8, 31] after a 300-step warm-up from full pools (std-sample has no pool: ignored there);
# one model after the other with 2 threads each.
RECIPE=(--lb-scores all --lb-weight 0.04 --pool-min 8 --pool-max 31 --pool-warmup 300 --threads 2)
for router in emo std; do
  "$PY" tools/train/train.py --router "$router" --corpus "$WORK/train.jsonl" --tokenizer build/train/tokenizer.json \
    --out "samples/models/$router-sample" "${RECIPE[@]}" > "build/train/$router.log" 2>&1
done
"$PY" tools/train/evaluate.py --train "$WORK/train.jsonl"
