#!/usr/bin/env python3
"""UI frame time of the desktop app on a large routing view, against a small reference view.

  python3 bench/gui_frame_time.py [--app build/moescope] [--frames 300]

Makes (in a temp folder) an EMO-shaped checkpoint with random BF16 weights and 16 MoE layers of
128 experts (1 shared, top-8; small hidden size so it routes fast on a CPU) and a text of about
10k tokens from the held-out sample corpus; then runs `moescope --frame-stats` under Xvfb on
  1. the reference: the EMO sample model (4 layers x 32 experts) on the app's short sample text;
  2. the large view: 16 layers x 128 experts on the 10k-token text (Text view: token boxes,
     layer x expert heatmaps, pool bars; Compare view: two such columns).
Prints the median and p95 UI time per frame (building the frame on the CPU: the work the UI
thread does; GPU drawing is the driver's) and the ratio large / reference, and checks the
median against the 16 ms frame budget. Needs numpy, xvfb-run and a built app; stdlib otherwise.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_random_emo(folder, layers=16, experts=128, top_k=8, hidden=64, width=32, vocab=8192, context=16384, seed=0):
    rng = np.random.default_rng(seed)
    cfg = json.load(open(os.path.join(ROOT, "samples/models/emo-sample/config.json")))
    cfg.update(num_hidden_layers=layers, num_experts=experts, num_experts_per_tok=top_k, hidden_size=hidden,
               intermediate_size=width, num_attention_heads=4, num_key_value_heads=4, head_dim=hidden // 4,
               max_position_embeddings=context, vocab_size=vocab)
    tensors = {"model.embed_tokens.weight": (vocab, hidden), "lm_head.weight": (vocab, hidden), "model.norm.weight": (hidden,)}
    for l in range(layers):
        p = f"model.layers.{l}."
        tensors[p + "mlp.gate.weight"] = (experts, hidden)
        tensors[p + "pre_attention_layernorm.weight"] = (hidden,)
        tensors[p + "pre_feedforward_layernorm.weight"] = (hidden,)
        for n in ("q", "k", "v", "o"):
            tensors[p + f"self_attn.{n}_proj.weight"] = (hidden, hidden)
        for e in range(experts):
            tensors[p + f"mlp.experts.{e}.gate_proj.weight"] = (width, hidden)
            tensors[p + f"mlp.experts.{e}.up_proj.weight"] = (width, hidden)
            tensors[p + f"mlp.experts.{e}.down_proj.weight"] = (hidden, width)
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, shape in sorted(tensors.items()):
        x = np.ones(shape, np.float32) if name.endswith("norm.weight") else rng.normal(0, 0.5 / np.sqrt(shape[-1]), shape).astype(np.float32)
        bf16 = (x.view(np.uint32) >> 16).astype(np.uint16).tobytes()  # truncation to BF16
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + len(bf16)]}
        blobs.append(bf16)
        offset += len(bf16)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)
    json.dump(cfg, open(os.path.join(folder, "config.json"), "w"), indent=2)
    with open(os.path.join(ROOT, "samples/models/emo-sample/tokenizer.json"), "rb") as src, \
            open(os.path.join(folder, "tokenizer.json"), "wb") as dst:
        dst.write(src.read())


def frame_stats(app, home, args):
    out = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", app, *args], capture_output=True, text=True,
                         env={**os.environ, "HOME": home}, check=True).stdout
    m = re.search(r"frames (\d+): UI time per frame median ([\d.]+) ms, p95 ([\d.]+) ms", out)
    if not m:
        raise SystemExit(f"no frame statistics in the app's output:\n{out}")
    return int(m.group(1)), float(m.group(2)), float(m.group(3))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--app", default=os.path.join(ROOT, "build", "moescope"))
    ap.add_argument("--frames", type=int, default=300)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="moescope-frames-")
    model = os.path.join(work, "emo-16x128")
    write_random_emo(model)
    text, size = [], 0
    with open(os.path.join(ROOT, "samples/corpus/heldout.jsonl"), encoding="utf-8") as f:
        for line in f:  # about 10k tokens: ~3.5 bytes per token in this corpus
            doc = json.loads(line)
            if doc["domain"] in ("literature_en", "code_python", "lang_de") and size < 40000:
                text.append(doc["text"])
                size += len(doc["text"].encode())
    text_file = os.path.join(work, "text.txt")
    open(text_file, "w", encoding="utf-8").write("\n\n".join(text)[:36000])
    tokens = json.loads(subprocess.run([os.path.join(ROOT, "build", "moescope-cli"), "tokenize", "--model", model, "--file",
                                        text_file, "--json"], capture_output=True, text=True, check=True).stdout)["ids"]
    common = ["--frame-stats", "--frames", str(args.frames)]
    rows = [("reference: EMO sample (4 x 32), sample text, Text view", [*common, "--view", "text", "--screenshot", os.path.join(work, "ref.png")]),
            (f"16 x 128 experts, {len(tokens)} tokens, Text view",
             [*common, "--model", model, "--text-file", text_file, "--view", "text", "--screenshot", os.path.join(work, "text.png")])]
    results = []
    for name, a in rows:
        n, med, p95 = frame_stats(args.app, work, a)
        results.append((name, n, med, p95))
    print(f"{'run':58} {'frames':>6} {'median ms':>10} {'p95 ms':>8}")
    for name, n, med, p95 in results:
        print(f"{name:58} {n:6d} {med:10.2f} {p95:8.2f}")
    ratio = results[1][2] / results[0][2]
    print(f"ratio large / reference (median): {ratio:.2f}x; large view median {results[1][2]:.2f} ms vs the 16 ms budget: "
          f"{'within' if results[1][2] < 16 else 'OVER'}")


if __name__ == "__main__":
    main()
