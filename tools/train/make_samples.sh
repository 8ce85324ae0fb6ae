#!/usr/bin/env bash
# Rebuilds samples/ from scratch: the corpus from Debian packages, the tokenizer, both sample
# models, and the results table (samples/results.json, printed as markdown).
#   bash tools/train/make_samples.sh [PYTHON]
# PYTHON: an interpreter with torch, tokenizers, safetensors and numpy (default python3).
# Needs apt-get/dpkg-deb (Debian) and groff-base; about 2 minutes for the corpus, an hour for the
# two models on 2 cores (side by side, one thread each: the committed samples were made this way,
# and float results depend on the thread count), 10 minutes to evaluate.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${1:-python3}
WORK=build/corpus
"$PY" tools/corpus/build_corpus.py --work "$WORK"
"$PY" tools/train/train_tokenizer.py --corpus "$WORK/train.jsonl" --out build/train/tokenizer.json
bash tools/build.sh
"$PY" tools/train/train.py --router emo --corpus "$WORK/train.jsonl" --tokenizer build/train/tokenizer.json \
  --out build/train --tokenize-only
"$PY" tools/train/train.py --router emo --corpus "$WORK/train.jsonl" --tokenizer build/train/tokenizer.json \
  --out samples/models/emo-sample --threads 1 > build/train/emo.log 2>&1 &
emo=$!
"$PY" tools/train/train.py --router std --corpus "$WORK/train.jsonl" --tokenizer build/train/tokenizer.json \
  --out samples/models/std-sample --threads 1 > build/train/std.log 2>&1 &
std=$!
wait $emo
wait $std
"$PY" tools/train/evaluate.py --train "$WORK/train.jsonl"
