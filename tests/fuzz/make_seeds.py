#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/seeds/<target>/.

Seeds are small real files (fixtures, oracle configs, corpus lines, tokenizer test texts) plus a
few hand-made ones that reach each parser's branches. Run from anywhere; it rewrites the seeds
(except seeds/workspace/*.moescope, which tools/fuzz.sh does not regenerate: see
tests/fuzz/README.md). Needs ../shared/oracles beside the repository for some seeds.
"""
import json
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "tests", "fuzz", "seeds")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "oracles")
FIX = os.path.join(ROOT, "tests", "fixtures", "models")


def out(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(target, name, src):
    if not os.path.exists(src):
        print("make_seeds: missing", src, "- skipped", file=sys.stderr)
        return
    with open(src, "rb") as f:
        out(target, name, f.read())


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- safetensors: tiny files built by hand (the fixtures are 100+ KB) ----
def safetensors(tensors, metadata=None, pad_header=True):
    """tensors: list of (name, dtype, shape, raw bytes); laid out in order."""
    header, blobs, off = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs += raw
        off += len(raw)
    h = compact(header).encode()
    if pad_header:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blobs


def seeds_safetensors():
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.25)
    out("safetensors", "one_f32.safetensors", safetensors([("w", "F32", [2, 2], f32)]))
    out("safetensors", "mixed.safetensors", safetensors(
        [("a.weight", "BF16", [3], b"\x80\x3f\x00\x40\x40\x40"), ("b", "I64", [1], struct.pack("<q", -7)),
         ("c", "U8", [2, 1], b"\x01\x02"), ("d", "BOOL", [1], b"\x01"), ("e", "F16", [1], b"\x00\x3c")],
        metadata={"format": "pt"}))
    out("safetensors", "zero_size.safetensors", safetensors([("empty", "F32", [0, 4], b""), ("s", "I8", [], b"\x05")]))
    out("safetensors", "empty_header.safetensors", safetensors([]))
    out("safetensors", "i32_i16_f64.safetensors", safetensors(
        [("x", "I32", [2], struct.pack("<2i", 1, -1)), ("y", "I16", [1], struct.pack("<h", 3)),
         ("z", "F64", [1], struct.pack("<d", 2.5))], pad_header=False))


# ---- config.json: every fixture config, the samples and the oracle configs ----
def seeds_config():
    for name in sorted(n for n in os.listdir(FIX) if os.path.isdir(os.path.join(FIX, n))):
        copy("config", name + ".json", os.path.join(FIX, name, "config.json"))
    for name in ("emo-sample", "std-sample"):
        copy("config", name + ".json", os.path.join(ROOT, "samples", "models", name, "config.json"))
    for name in ("mixtral-8x7b-v0.1", "qwen3-30b-a3b", "mistral-7b-v0.1", "wizardlm-2-8x22b"):
        copy("config", name + ".json", os.path.join(SHARED, "configs", name, "config.json"))
    base = {"model_type": "emo", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 16, "num_experts": 6, "num_experts_per_tok": 3}
    out("config", "always_active.json", compact(dict(base, always_active_experts_per_layer=[[0], None],
                                                     rope_parameters={"rope_type": "default", "rope_theta": 1e4})))
    with open(os.path.join(FIX, "llama4-chunked", "config.json"), encoding="utf-8") as f:
        text_config = json.load(f)
    out("config", "llama4_multimodal.json", compact({"model_type": "llama4", "text_config": text_config,
                                                     "vision_config": {"hidden_size": 8}}))
    out("config", "olmoe_clip.json", compact(dict(base, model_type="olmoe", clip_qkv=8.0, norm_topk_prob=True,
                                                  eos_token_id=[5, 6], head_dim=16, num_key_value_heads=2)))


# ---- tokenizer.json: the 7 KB fixture tokenizer and small hand-made variants ----
def tiny_vocab():
    vocab = {c: i for i, c in enumerate("abcdeh lo")}
    vocab.update({"ab": 9, "abc": 10, "he": 11, "hel": 12, "lo": 13})
    return vocab


def tokenizer(model, normalizer=None, pre_tokenizer=None, decoder=None, added=()):
    return compact({"version": "1.0", "added_tokens": list(added), "normalizer": normalizer,
                    "pre_tokenizer": pre_tokenizer, "post_processor": None, "decoder": decoder, "model": model})


def added_token(i, content, **flags):
    t = {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
    t.update(flags)
    return t


def seeds_tokenizer_json():
    copy("tokenizer_json", "tiny-tokenizer.json", os.path.join(FIX, "tiny-tokenizer.json"))
    merges = ["a b", "ab c", "h e", "he l", "l o"]
    bpe = {"type": "BPE", "vocab": tiny_vocab(), "merges": merges}
    out("tokenizer_json", "plain_bpe.json", tokenizer(bpe))
    out("tokenizer_json", "pair_merges_unk.json", tokenizer(
        dict(bpe, merges=[m.split(" ") for m in merges], unk_token="e", fuse_unk=True),
        normalizer={"type": "Sequence", "normalizers": [{"type": "NFC"}]}))
    out("tokenizer_json", "split_behaviors.json", tokenizer(
        bpe, pre_tokenizer={"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False},
            {"type": "Split", "pattern": {"Regex": "\\s+|\\w+"}, "behavior": "Contiguous", "invert": True},
            {"type": "Split", "pattern": {"Regex": "[\\h]"}, "behavior": "MergedWithNext"}]}))
    out("tokenizer_json", "prefix_suffix.json", tokenizer(
        {"type": "BPE", "vocab": {"a": 0, "##b": 1, "c</w>": 2, "a##b": 3}, "merges": ["a ##b"],
         "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>", "ignore_merges": True}))
    byte_vocab = {}
    # GPT-2's byte alphabet: printable Latin-1 bytes map to themselves, the rest to U+0100 on.
    keep = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    n = 0
    for b in range(256):
        byte_vocab[chr(b) if b in keep else chr(256 + n)] = b
        if b not in keep:
            n += 1
    byte_vocab["\u0120a"] = 256
    out("tokenizer_json", "bytelevel_added.json", tokenizer(
        {"type": "BPE", "vocab": byte_vocab, "merges": ["\u0120 a"], "ignore_merges": True},
        pre_tokenizer={"type": "ByteLevel", "add_prefix_space": True, "use_regex": True},
        decoder={"type": "ByteLevel"},
        added=[added_token(257, "<s>"), added_token(258, " ", special=False, normalized=True, lstrip=True,
                                                     rstrip=True), added_token(259, "x", single_word=True)]))
    # SentencePiece-style: Metaspace + byte fallback (Mistral form) and the older normalizer form.
    spm_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<0x0A>": 3, "<0xE6>": 4, "<0x96>": 5, "<0x87>": 6,
                 "\u2581": 7, "a": 8, "b": 9, "\u2581a": 10, "ab": 11}
    spm = {"type": "BPE", "vocab": spm_vocab, "merges": ["\u2581 a", "a b"], "unk_token": "<unk>",
           "fuse_unk": True, "byte_fallback": True}
    spm_decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    out("tokenizer_json", "metaspace_byte_fallback.json", tokenizer(
        spm, pre_tokenizer={"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
        decoder=spm_decoder, added=[added_token(1, "<s>"), added_token(2, "</s>")]))
    out("tokenizer_json", "prepend_replace.json", tokenizer(
        spm, normalizer={"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"Regex": " +"}, "content": "\u2581"}]},
        decoder={"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                                       "split": True}]}))


# ---- tokenizer_encode: texts (llama.cpp tokenizer test inputs, one file each) ----
def seeds_tokenizer_encode():
    src = os.path.join(SHARED, "tokenizer-test-vectors", "llama.cpp", "ggml-vocab-dbrx.gguf.inp")
    if os.path.exists(src):
        with open(src, "rb") as f:
            texts = f.read().split(b"\n__ggml_vocab_test__\n")
        for i, t in enumerate(t for t in texts if t):
            out("tokenizer_encode", "llama_cpp_%02d.txt" % i, t)
    out("tokenizer_encode", "special.txt", "a<|endoftext|>b<|im_start|>user\n")
    out("tokenizer_encode", "nfc.txt", "e\u0301 \u212b \uac00\u11a8 \ufb01")
    out("tokenizer_encode", "invalid_utf8.bin", b"ok \xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf")
    out("tokenizer_encode", "spaces.txt", "a" + " " * 40 + "b\n\n\t\t \r\n")
    out("tokenizer_encode", "sentencepiece.txt", " <s>[INST] \u9547 \U0001f999\ua64a </s>\u2581x<unk>")


# ---- corpus JSONL: three held-out lines (cut short) and the optional fields ----
def seeds_corpus():
    with open(os.path.join(ROOT, "samples", "corpus", "heldout.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(next(f)) for _ in range(3)]
    for d in lines:
        d["text"] = d["text"][:300]
    out("corpus", "heldout_3.jsonl", "".join(compact(d) + "\n" for d in lines))
    out("corpus", "fields.jsonl", compact({"text": "x", "domain": "d", "lang": "en", "id": 7, "source": "s"}) +
        "\r\n\n  \t\n" + compact({"text": "\u00e9\u6570", "domain": None, "id": "a"}))


# ---- subset JSON: the fixture keep file and a moescope-subset/1 file for emo-shared ----
def seeds_subset():
    copy("subset", "keep.json", os.path.join(FIX, "emo-keep", "keep.json"))
    out("subset", "moescope_subset.json", json.dumps({
        "schema": "moescope-subset/1", "method": "frequency", "domain": "code", "seed": 0,
        "standard_experts_per_layer": [7, 7, 7], "experts_kept_per_layer": [[0, 1, 7], None, [6, 5]]}, indent=1))
    out("subset", "per_layer.json", compact({"experts_kept_per_layer": [None, [0, 5], [1, 2, 3]]}))


def main():
    for d in ("safetensors", "config", "tokenizer_json", "tokenizer_encode", "corpus", "subset"):
        shutil.rmtree(os.path.join(SEEDS, d), ignore_errors=True)
    seeds_safetensors()
    seeds_config()
    seeds_tokenizer_json()
    seeds_tokenizer_encode()
    seeds_corpus()
    seeds_subset()


if __name__ == "__main__":
    main()
