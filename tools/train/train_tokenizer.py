#!/usr/bin/env python3
"""Trains the sample models' byte-level BPE tokenizer on the training corpus with HF `tokenizers`.

  python3 tools/train/train_tokenizer.py --corpus build/corpus/train.jsonl --out build/train/tokenizer.json

Vocabulary 8192 (256 byte symbols + merges + `<|endoftext|>`, the EOS, as the last id), the
cl100k-style pre-tokenizer regex (Split, isolated) followed by ByteLevel without its own regex,
ByteLevel decoding. Deterministic for a given corpus.
"""
import argparse
import json
import os

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

CL100K_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
EOS = "<|endoftext|>"


def texts(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)["text"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=8192)
    args = ap.parse_args()
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(CL100K_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=args.vocab - 1, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts(args.corpus), trainer=trainer)
    tok.add_special_tokens([EOS])  # last id: vocab - 1
    assert tok.token_to_id(EOS) == tok.get_vocab_size() - 1, "EOS must be the last id"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tok.save(args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)
    print(f"tokenizer: {tok.get_vocab_size()} ids, EOS {EOS} = {tok.token_to_id(EOS)} -> {args.out}")


if __name__ == "__main__":
    main()
