#!/usr/bin/env python3
"""CPU prefill benchmark: moescope vs Hugging Face transformers, side by side, same weights.

Makes (once, cached) a random OLMoE-architecture checkpoint with transformers itself
(4 layers, hidden 512, 8 heads, 64 experts of width 256, top-8, OLMoE's vocabulary 50304),
then times a prefill of 32 documents x 512 tokens with full router recording:
  - moescope: `moescope-cli bench` (packed documents; top-k, router logits, probabilities, NLL),
  - transformers on PyTorch CPU, batch [32, 512], output_router_logits=True, with each experts
    implementation it offers (eager, batched_mm, grouped_mm),
all with the same thread count, and prints medians, ratios, and achieved GFLOP/s against this
machine's GEMM rate in the same dtype measured here with torch.mm (MKL/oneDNN) and with Eigen.
--dtype bf16 saves the checkpoint in BF16 and runs both engines in BF16: transformers with
dtype=bfloat16, moescope with --precision bf16 (BF16 weight GEMMs, FP32 accumulation).

Run:  /opt/mtools/bin/python bench/cpu_route_vs_transformers.py [--threads N] [--repeat R] [--dtype f32|bf16]
Needs: torch + transformers in the Python environment, build/moescope-cli built (tools/build.sh).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from transformers import OlmoeConfig, OlmoeForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_checkpoint(path, vocab, dtype):
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return
    torch.manual_seed(0)
    cfg = OlmoeConfig(vocab_size=vocab, hidden_size=512, intermediate_size=256, num_hidden_layers=4,
                      num_attention_heads=8, num_key_value_heads=8, num_experts=64, num_experts_per_tok=8,
                      max_position_embeddings=4096, rope_theta=10000.0, norm_topk_prob=False,
                      output_router_logits=True, tie_word_embeddings=False,
                      bos_token_id=None, eos_token_id=vocab - 1, pad_token_id=vocab - 1)
    model = OlmoeForCausalLM(cfg).eval().to(dtype)
    model.save_pretrained(path)


def flops_per_run(docs, tokens, V, D=512, H=8, Dh=64, L=4, E=64, K=8, I=256):
    # Same accounting as engine/flops.cpp: useful work only, causal attention, K experts per token.
    T = docs * tokens
    pairs = docs * tokens * (tokens + 1) / 2
    per_layer = 2 * T * D * (4 * H * Dh) + 4 * pairs * H * Dh + 2 * T * D * E + 2 * T * K * 3 * D * I
    return L * per_layer + 2 * T * D * V


def torch_gemm_gflops(dtype, n=2048, repeats=5):
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        rates.append(2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def load_transformers(path, impl, dtype):
    model = OlmoeForCausalLM.from_pretrained(path, dtype=dtype).eval()
    model.set_experts_implementation(impl)
    return model


def time_transformers_once(model, x):
    with torch.inference_mode():
        t0 = time.perf_counter()
        out = model(input_ids=x, output_router_logits=True)
        # Per-token NLL, as moescope records it.
        logp = torch.log_softmax(out.logits[:, :-1].float(), dim=-1)
        logp.gather(-1, x[:, 1:, None])
        seconds = time.perf_counter() - t0
        del out, logp
    return seconds


def time_moescope_once(cli, checkpoint, ids_path, threads, precision):
    # One warm-up forward then one timed forward inside the CLI; only the timed one is reported.
    out = subprocess.run([cli, "bench", "--model", checkpoint, "--ids", ids_path, "--repeat", "1",
                          "--threads", str(threads), "--precision", precision, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--docs", type=int, default=32)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--vocab", type=int, default=50304,
                    help="vocabulary (OLMoE's 50304 by default; the lm_head is then ~60%% of the FLOPs)")
    ap.add_argument("--checkpoint", default=None, help="where to cache the random checkpoint")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "moescope-cli"))
    ap.add_argument("--impls", default="eager,grouped_mm,batched_mm")
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32", help="weights and compute of both engines")
    args = ap.parse_args()
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    torch.set_num_threads(args.threads)

    if args.checkpoint is None:
        suffix = "" if args.dtype == "f32" else "-bf16"
        args.checkpoint = os.path.join(tempfile.gettempdir(), f"moescope-bench-olmoe-512x64-v{args.vocab}{suffix}")
    make_checkpoint(args.checkpoint, args.vocab, dtype)
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, args.vocab, (args.docs, args.tokens), generator=g)
    ids = x.tolist()
    ids_path = os.path.join(args.checkpoint, "bench_ids.json")
    with open(ids_path, "w") as f:
        json.dump(ids, f)
    T = args.docs * args.tokens
    flops = flops_per_run(args.docs, args.tokens, args.vocab)

    models = {}
    for impl in [s for s in args.impls.split(",") if s]:
        try:
            models[impl] = load_transformers(args.checkpoint, impl, dtype)
            time_transformers_once(models[impl], x)  # warm-up
        except Exception as e:  # an implementation this torch/transformers cannot run on CPU
            models.pop(impl, None)
            print(f"transformers experts={impl}: skipped ({type(e).__name__}: {str(e)[:80]})")

    # Rounds interleave the engines so a noisy machine slows all of them alike; the ratio is the
    # median of per-round ratios.
    times = {"moescope": []}
    times.update({impl: [] for impl in models})
    ours = None
    for _ in range(args.repeat):
        ours = time_moescope_once(args.cli, args.checkpoint, ids_path, args.threads, args.dtype)
        times["moescope"].append(ours["seconds_median"])
        for impl, model in models.items():
            times[impl].append(time_transformers_once(model, x))
    peak_torch = torch_gemm_gflops(dtype)

    print(f"CPU prefill, {args.docs} docs x {args.tokens} tokens = {T} tokens, {args.threads} threads, "
          f"random OLMoE 4L/512/64x256/top-8/V{args.vocab} ({args.dtype}), router logits recorded; {args.repeat} interleaved rounds")
    print(f"machine {args.dtype} GEMM 2048^3: torch.mm {peak_torch:.1f} GFLOP/s; moescope's fp32 GEMM {ours['sgemm_gflops_engine_2048']:.1f} GFLOP/s")
    print(f"{'engine':<34}{'tokens/s':>10}{'GFLOP/s':>10}{'% peak':>8}{'moescope x':>12}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, t in med.items():
        label = "moescope (packed documents)" if name == "moescope" else f"transformers experts={name}"
        ratio = statistics.median([b / a for a, b in zip(times["moescope"], times[name])])
        gfl = flops / t / 1e9
        print(f"{label:<34}{T / t:>10.0f}{gfl:>10.1f}{100 * gfl / peak_torch:>7.0f}%{ratio:>11.2f}x")
    split = ours["seconds_split"]
    print("moescope stage split of the last round (s): " + ", ".join(f"{k} {v:.2f}" for k, v in split.items()))
    if "eager" in models:
        r = statistics.median([b / a for a, b in zip(times["moescope"], times["eager"])])
        print(f"vs eager experts: {r:.2f}x (target >= 2x)")
    if models:
        best = min(models, key=lambda k: med[k])
        r = statistics.median([b / a for a, b in zip(times["moescope"], times[best])])
        print(f"vs fastest transformers backend ({best}): {r:.2f}x (target >= 1x)")


if __name__ == "__main__":
    sys.exit(main())
