#!/usr/bin/env python3
"""GPU prefill benchmark: moescope's CUDA backend against Hugging Face transformers, same weights.

Makes (once; an existing complete folder is reused) an OLMoE-architecture checkpoint of
EMO-1B14B's shape with random BF16 weights: 16 layers, hidden 2048, 16 heads, 128 experts of
width 1024, top-8, vocabulary 100278 (13.6 B parameters, ~27 GB of safetensors). transformers
builds it directly on the GPU in bf16 from a fixed seed and saves it sharded. A 16-of-128 expert
subset per layer is written beside it. Then, one after the other on the same GPU:

  (i)  transformers, BF16: prefill of 64 documents x 1024 random token ids (fixed seed) with
       output_router_logits=True and logits for every token, with the fastest experts
       implementation that runs (grouped_mm, else eager), in batches of as many documents as
       fit; one warm-up pass over all documents, then the median of 3 timed passes
       (torch.cuda.synchronize around each), and torch.cuda.max_memory_allocated;
  (ii) `moescope-cli bench --model DIR --docs 64 --tokens 1024 --repeat 3 --device cuda --json`
       (one packed batch; top-k, router logits, probabilities and NLL recorded), with all
       experts and with `--keep SUBSET.json`, each with the expert GEMMs issued per expert and
       grouped (MOESCOPE_CUDA_EXPERTS=loop, then =grouped), each with its GPU memory (nvidia-smi's
       memory.used, polled while it runs, less the value before it started).

It prints tokens/s of each, moescope/transformers (moescope's faster mode), moescope's per-stage
seconds, and the GPU memory, next to the targets (>= 3x transformers and >= 100k tokens/s on an
H100), and writes the result as JSON to --out after every phase (a run cut short still leaves
what it measured).

Run (on the GPU machine; tools/gpu-check.sh does this):
    python3 bench/gpu_prefill_vs_transformers.py --cli build-gpu/moescope-cli --out bench.json
Check the script end to end on a CPU with a tiny model (moescope then runs --device cpu):
    /opt/mtools/bin/python bench/gpu_prefill_vs_transformers.py --tiny --cli build/moescope-cli \\
        --work-dir /tmp/gpu-bench-tiny --out /tmp/gpu-bench-tiny.json
Needs: Python 3.10+, torch, transformers 5.x, safetensors; nothing else.
"""
import argparse
import gc
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Model shapes: the benchmark's (EMO-1B14B as OLMoE) and a tiny one for checking the script.
SHAPES = {
    "emo-1b14b": dict(layers=16, hidden=2048, heads=16, experts=128, width=1024, top_k=8, vocab=100278,
                      context=4096, keep=16, docs=64, tokens=1024),
    "tiny": dict(layers=2, hidden=64, heads=4, experts=8, width=32, top_k=2, vocab=1000,
                 context=512, keep=4, docs=4, tokens=64),
}
TARGET_RATIO = 3.0             # moescope (all experts) / transformers
TARGET_TOKENS_PER_S = 100_000  # moescope, all experts, on an H100
# Experts implementations tried in this order when --experts-impl is auto. batched_mm is left out:
# it copies each selected expert's weights once per token (~100 GB for one 1024-token document here).
AUTO_EXPERTS_IMPLS = ("grouped_mm", "eager")
GIB = 1024 ** 3
# The moescope runs, in order (moescope_<experts>_<expert GEMM mode>), and their labels.
RUN_KEYS = ("moescope_all_loop", "moescope_subset_loop", "moescope_all_grouped", "moescope_subset_grouped")
RUN_LABELS = {"moescope_all_loop": "{device}, all {E} experts, loop GEMMs",
              "moescope_subset_loop": "{device}, {keep} of {E} experts, loop GEMMs",
              "moescope_all_grouped": "{device}, all {E} experts, grouped GEMMs",
              "moescope_subset_grouped": "{device}, {keep} of {E} experts, grouped GEMMs"}


class Interrupted(Exception):
    pass


def on_sigterm(signum, frame):
    raise Interrupted(f"signal {signum}")


def log(msg):
    print(msg, flush=True)


def param_count(s):
    d, i, e, v, n = s["hidden"], s["width"], s["experts"], s["vocab"], s["layers"]
    per_layer = 4 * d * d + 2 * d + 2 * d + e * d + e * 3 * i * d  # q,k,v,o; q/k norms; 2 norms; router; experts
    return 2 * v * d + n * per_layer + d


class Result:
    """The JSON result, rewritten whole (atomically) after every phase."""

    def __init__(self, path):
        self.path = path
        self.data = {"schema": "moescope-gpu-prefill-bench/1", "status": "running", "phases_s": {}}

    def phase(self, name, seconds):
        self.data["phases_s"][name] = round(seconds, 3)
        log(f"[phase] {name}: {seconds:.1f} s")
        self.save()

    def save(self):
        if not self.path:
            return
        tmp = f"{self.path}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            json.dump(self.data, f, indent=2)
            f.write("\n")
        os.replace(tmp, self.path)


# ------------------------------------------------------------------------------------------------
# The checkpoint and the subset
# ------------------------------------------------------------------------------------------------

def marker_for(shape, seed):
    return {"family": "olmoe", "shape": shape, "seed": seed, "dtype": "bfloat16"}


def checkpoint_complete(model_dir, shape, seed):
    """A folder is reused when our marker matches and every shard its index names exists."""
    try:
        with open(os.path.join(model_dir, "moescope-bench.json")) as f:
            marker = json.load(f)
        if {k: marker.get(k) for k in ("family", "shape", "seed", "dtype")} != marker_for(shape, seed):
            return False
        index = os.path.join(model_dir, "model.safetensors.index.json")
        if os.path.exists(index):
            with open(index) as f:
                shards = set(json.load(f)["weight_map"].values())
        else:
            shards = {"model.safetensors"}
        return all(os.path.exists(os.path.join(model_dir, s)) for s in shards) and \
            os.path.exists(os.path.join(model_dir, "config.json"))
    except (OSError, ValueError, KeyError):
        return False


def olmoe_config(s):
    from transformers import OlmoeConfig
    kw = dict(vocab_size=s["vocab"], hidden_size=s["hidden"], intermediate_size=s["width"],
              num_hidden_layers=s["layers"], num_attention_heads=s["heads"], num_key_value_heads=s["heads"],
              num_experts=s["experts"], num_experts_per_tok=s["top_k"], max_position_embeddings=s["context"],
              norm_topk_prob=False, tie_word_embeddings=False, pad_token_id=1,
              eos_token_id=min(100257, s["vocab"] - 1), output_router_logits=False)
    try:
        return OlmoeConfig(rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **kw)
    except TypeError:  # a transformers without rope_parameters
        return OlmoeConfig(rope_theta=10000.0, **kw)


def build_model(s, device, seed):
    """OlmoeForCausalLM with random weights, made on `device` in bf16 (no CPU copy)."""
    import torch
    from transformers import OlmoeForCausalLM
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(device):
            model = OlmoeForCausalLM(olmoe_config(s))
    finally:
        torch.set_default_dtype(previous)
    return model.to(torch.bfloat16).eval()


def save_checkpoint(model, model_dir, shape, seed, shard):
    """save_pretrained into NAME.partial, then renamed: the folder exists only when complete."""
    tmp = model_dir + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(model_dir)), exist_ok=True)
    model.save_pretrained(tmp, max_shard_size=shard)
    import transformers
    with open(os.path.join(tmp, "moescope-bench.json"), "w") as f:
        json.dump(dict(marker_for(shape, seed), transformers=transformers.__version__), f, indent=2)
    shutil.rmtree(model_dir, ignore_errors=True)
    os.rename(tmp, model_dir)


def folder_bytes(path):
    return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path))


def write_subset(path, s, seed):
    rng = random.Random(seed)
    kept = [sorted(rng.sample(range(s["experts"]), s["keep"])) for _ in range(s["layers"])]
    with open(path, "w") as f:
        json.dump({"experts_kept_per_layer": kept}, f)
        f.write("\n")
    return kept


# ------------------------------------------------------------------------------------------------
# transformers
# ------------------------------------------------------------------------------------------------

def experts_impl_of(model):
    return getattr(model.config, "_experts_implementation", None)


def set_experts_impl(model, impl):
    if hasattr(model, "set_experts_implementation"):
        model.set_experts_implementation(impl)
    else:
        model.config._experts_implementation = impl
    return experts_impl_of(model)


def sync(device):
    import torch
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def forward_all(model, ids, batch):
    import torch
    with torch.inference_mode():
        for start in range(0, ids.shape[0], batch):
            out = model(input_ids=ids[start:start + batch], output_router_logits=True, use_cache=False)
            del out


def run_transformers(model, s, args, device, res):
    import torch
    is_cuda = device.startswith("cuda")
    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    ids = torch.randint(0, s["vocab"], (args.docs, args.tokens), generator=gen).to(device)
    r = res.data.setdefault("transformers", {})
    r["attention_implementation"] = getattr(model.config, "_attn_implementation", None)
    r["experts_implementation_default"] = experts_impl_of(model)
    r["grouped_mm_in_torch"] = {"torch.nn.functional.grouped_mm": hasattr(torch.nn.functional, "grouped_mm"),
                                "torch._grouped_mm": hasattr(torch, "_grouped_mm")}
    candidates = AUTO_EXPERTS_IMPLS if args.experts_impl == "auto" else (args.experts_impl,)
    tried = {}
    chosen = None
    probe = ids[:1, :min(args.tokens, 128)]
    for impl in candidates:
        try:
            actual = set_experts_impl(model, impl)
            forward_all(model, probe, 1)
            sync(device)
            tried[impl] = "ran" if actual in (None, impl) else f"ran as {actual}"
            chosen = actual or impl
            break
        except Exception as e:  # an implementation this transformers/torch/GPU cannot run
            tried[impl] = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
            log(f"transformers: experts implementation {impl} failed: {tried[impl]}")
            gc.collect()
            if is_cuda:
                torch.cuda.empty_cache()
    r["experts_implementations_tried"] = tried
    if chosen is None:
        raise RuntimeError(f"no experts implementation ran: {tried}")
    r["experts_implementation"] = chosen
    log(f"transformers: experts implementation {chosen}, attention {r['attention_implementation']}")

    # Batch: as many documents per forward as fit (warm-up pass over all documents at that size).
    batch = None
    t0 = time.perf_counter()
    for b in [b for b in (64, 32, 16, 8, 4, 2, 1) if b <= args.docs and args.docs % b == 0]:
        try:
            forward_all(model, ids, b)
            sync(device)
            batch = b
            break
        except torch.cuda.OutOfMemoryError:
            log(f"transformers: batch of {b} documents does not fit, halving")
            gc.collect()
            torch.cuda.empty_cache()
    if batch is None:
        raise RuntimeError("not even one document per forward fits")
    r["batch_documents"] = batch
    r["warmup_s"] = round(time.perf_counter() - t0, 3)
    if is_cuda:
        torch.cuda.reset_peak_memory_stats()
        r["weights_bytes_on_gpu"] = torch.cuda.memory_allocated()
    times = []
    for i in range(args.repeat):
        sync(device)
        t = time.perf_counter()
        forward_all(model, ids, batch)
        sync(device)
        times.append(time.perf_counter() - t)
        log(f"transformers: pass {i + 1}/{args.repeat}: {times[-1]:.3f} s")
    med = statistics.median(times)
    r.update(seconds=[round(x, 4) for x in times], seconds_median=round(med, 4),
             tokens=args.docs * args.tokens, tokens_per_second=args.docs * args.tokens / med)
    if is_cuda:
        r["max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
    res.save()


def free_model(model_holder, device):
    import torch
    model_holder.clear()
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
        return torch.cuda.memory_allocated()
    return 0


# ------------------------------------------------------------------------------------------------
# moescope
# ------------------------------------------------------------------------------------------------

def gpu_used_mib():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", "0"],
                             capture_output=True, text=True, timeout=10)
        return float(out.stdout.strip().splitlines()[0]) if out.returncode == 0 else None
    except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
        return None


def run_cli(cmd, env, timeout, poll_gpu):
    """Runs the CLI; returns (exit status, stdout, stderr, seconds, GPU memory dict or None)."""
    log("$ " + " ".join(cmd))
    baseline = gpu_used_mib() if poll_gpu else None
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.wait(0.25):
            v = gpu_used_mib()
            if v is not None and (peak[0] is None or v > peak[0]):
                peak[0] = v

    sampler = threading.Thread(target=sample, daemon=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if baseline is not None:
        sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        rc = "timeout"
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        done.set()
    seconds = time.perf_counter() - t0
    mem = None
    if baseline is not None:
        sampler.join(timeout=5)
        mem = {"baseline_mib": baseline, "peak_mib": peak[0], "peak_minus_baseline_mib": peak[0] - baseline}
    return rc, out, err, seconds, mem


def run_moescope_bench(args, s, model_dir, subset, device, env, res, key, deadline):
    cmd = [args.cli, "bench", "--model", model_dir, "--docs", str(args.docs), "--tokens", str(args.tokens),
           "--repeat", str(args.repeat), "--device", device, "--json"]
    if subset:
        cmd += ["--keep", subset]
    timeout = max(10.0, deadline - time.monotonic()) if deadline else None
    try:
        rc, out, err, seconds, mem = run_cli(cmd, env, timeout, device.startswith("cuda"))
    except Interrupted as e:
        res.data[key] = {"command": " ".join(cmd), "error": f"interrupted ({e})"}
        raise
    r = {"command": " ".join(cmd), "exit_status": rc, "wall_seconds_with_load": round(seconds, 3), "gpu_memory": mem}
    if err.strip():
        r["stderr_tail"] = err.strip()[-2000:]
        log(err.strip()[-2000:])
    if rc == 0:
        try:
            r["bench"] = json.loads(out)
            r["tokens_per_second"] = r["bench"]["tokens_per_second"]
        except (ValueError, KeyError) as e:
            r["error"] = f"bench output is not the expected JSON: {e}"
            r["stdout_head"] = out[:2000]
    else:
        r["error"] = f"moescope-cli exited {rc}"
    res.data[key] = r
    res.save()
    return r


def run_info(args, model_dir, subset, env):
    cmd = [args.cli, "info", "--model", model_dir, "--keep", subset, "--json"]
    try:
        rc, out, err, _, _ = run_cli(cmd, env, 120, False)
        if rc != 0:
            return {"error": f"exit {rc}: {err.strip()[-500:]}"}
        j = json.loads(out)
        return {"device": j.get("device"), "gpu_memory": j.get("gpu_memory")}
    except (OSError, ValueError) as e:
        return {"error": str(e)}


# ------------------------------------------------------------------------------------------------
# The summary
# ------------------------------------------------------------------------------------------------

def fmt_rate(x):
    return f"{x:,.0f} tokens/s" if x else "n/a"


def moescope_runs(d):
    """The moescope results present, as (key, result), in run order."""
    return [(k, d[k]) for k in RUN_KEYS if k in d]


def best_of(d, which):
    """The fastest moescope run of `which` ("all" or "subset"), or (None, {})."""
    runs = [(k, r) for k, r in moescope_runs(d) if k.startswith(f"moescope_{which}_") and r.get("tokens_per_second")]
    return max(runs, key=lambda kr: kr[1]["tokens_per_second"]) if runs else (None, {})


def summarize(res, s, args):
    d = res.data
    tf = d.get("transformers", {})
    tf_rate = tf.get("tokens_per_second")
    all_key, ma = best_of(d, "all")
    sub_key, ms = best_of(d, "subset")
    all_rate, sub_rate = ma.get("tokens_per_second"), ms.get("tokens_per_second")
    gpu = d.get("machine", {}).get("gpu", "no GPU")
    ratios = {}
    if tf_rate and all_rate:
        ratios["moescope_all_over_transformers"] = all_rate / tf_rate
    if tf_rate and sub_rate:
        ratios["moescope_subset_over_transformers"] = sub_rate / tf_rate
    d["ratios"] = ratios
    d["best_runs"] = {"all_experts": all_key, "subset": sub_key}
    on_h100 = "H100" in gpu
    d["targets"] = {
        "ratio_at_least": TARGET_RATIO,
        "ratio_met": (ratios["moescope_all_over_transformers"] >= TARGET_RATIO) if "moescope_all_over_transformers" in ratios else None,
        "tokens_per_second_at_least_on_h100": TARGET_TOKENS_PER_S,
        "tokens_per_second_met": (all_rate >= TARGET_TOKENS_PER_S) if all_rate else None,
        "measured_on_h100": on_h100,
    }

    def met(x):
        return "n/a" if x is None else ("met" if x else "NOT met")

    def mem_of(r):
        v = (r.get("gpu_memory") or {}).get("peak_minus_baseline_mib")
        return f"{v / 1024:.1f} GiB (nvidia-smi peak less baseline)" if v is not None else "n/a"

    lines = [f"=== summary: {gpu}; {args.docs} documents x {args.tokens} tokens = {args.docs * args.tokens} tokens; "
             f"model {d.get('model', {}).get('name')}"]
    if tf:
        peak = tf.get("max_memory_allocated_bytes")
        line = (f"transformers {d.get('versions', {}).get('transformers')} bf16 (experts {tf.get('experts_implementation')}, "
                f"attention {tf.get('attention_implementation')}, {tf.get('batch_documents')} documents per forward): "
                f"{fmt_rate(tf_rate)}, median {tf.get('seconds_median')} s")
        if peak:
            line += f"; max_memory_allocated {peak / GIB:.1f} GiB"
        if tf.get("error"):
            line += f"; FAILED: {tf['error']}"
        lines.append(line)
    for key, r in moescope_runs(d):
        label = RUN_LABELS[key].format(E=s["experts"], keep=s["keep"], device=args.device_used)
        if args.device_used != "cuda":
            label = label.rsplit(", ", 1)[0]  # the expert GEMM mode is the CUDA backend's
        if r.get("tokens_per_second"):
            b = r["bench"]
            rate = r["tokens_per_second"]
            ratio = f" = {rate / tf_rate:.2f}x transformers" if tf_rate else ""
            lines.append(f"moescope {label}: {fmt_rate(rate)}, median {b.get('seconds_median', float('nan')):.3f} s"
                         f"{ratio}; GPU memory {mem_of(r)}")
            sp = b.get("seconds_split", {})
            lines.append("    stages (s): " + ", ".join(f"{k} {v:.3f}" for k, v in sp.items()))
        elif str(r.get("error", "")).startswith("not run"):
            lines.append(f"moescope {label}: NOT RUN ({r['error'][len('not run: '):]})")
        else:
            lines.append(f"moescope {label}: FAILED: {r.get('error')}"
                         + (f" -- {r.get('stderr_tail', '')[-300:]}" if r.get("stderr_tail") else ""))
    t = d["targets"]
    lines.append(f"target moescope >= {TARGET_RATIO:g}x transformers (all experts, faster expert GEMM mode): {met(t['ratio_met'])}")
    lines.append(f"target >= {TARGET_TOKENS_PER_S:,} tokens/s on an H100 (all experts): {met(t['tokens_per_second_met'])}"
                 + ("" if on_h100 else f" (this is not an H100: {gpu})"))
    info = d.get("moescope_info", {}).get("gpu_memory")
    if info:
        lines.append("moescope info's GPU estimate: all experts "
                     f"{info.get('all_experts_bytes', 0) / GIB:.1f} GiB, subset {info.get('subset_bytes', 0) / GIB:.1f} GiB")
    parts = []
    if tf_rate:
        parts.append(f"transformers {tf_rate:,.0f} tok/s ({tf.get('experts_implementation')}, batch {tf.get('batch_documents')})")
    elif tf.get("error"):
        parts.append("transformers FAILED")
    for which, key, r in (("all", all_key, ma), ("subset", sub_key, ms)):
        if r:
            mode = key.rsplit("_", 1)[1]
            ratio = f" = {r['tokens_per_second'] / tf_rate:.2f}x" if tf_rate else ""
            mem = (r.get("gpu_memory") or {}).get("peak_minus_baseline_mib")
            mode = f" ({mode})" if args.device_used == "cuda" else ""
            parts.append(f"moescope {which} {r['tokens_per_second']:,.0f} tok/s{mode}{ratio}"
                         + (f", {mem / 1024:.1f} GiB" if mem is not None else ""))
        elif any(k.startswith(f"moescope_{which}_") for k, _ in moescope_runs(d)):
            parts.append(f"moescope {which} FAILED")
    if tf.get("max_memory_allocated_bytes"):
        parts.append(f"transformers peak {tf['max_memory_allocated_bytes'] / GIB:.1f} GiB")
    parts.append(f"targets 3x {met(t['ratio_met'])}, 100k {met(t['tokens_per_second_met'])}"
                 + ("" if on_h100 else " (not an H100)"))
    d["summary_line"] = "; ".join(parts)
    d["summary"] = lines
    for line in lines:
        log(line)


# ------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--cli", default=os.path.join(ROOT, "build-gpu", "moescope-cli"), help="moescope-cli to run")
    p.add_argument("--cli-lib-path", default="", help="LD_LIBRARY_PATH for moescope-cli only (not for this Python)")
    p.add_argument("--work-dir", default="/tmp/moescope-gpu-bench",
                   help="folder for the checkpoint (reused when complete) and the subset file")
    p.add_argument("--out", default="", help="write the JSON result here (after every phase)")
    p.add_argument("--tiny", action="store_true",
                   help="a 2-layer, hidden-64, 8-expert, vocabulary-1000 model, 4 x 64 tokens: checks the script")
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"],
                   help="auto: cuda when PyTorch sees one, else cpu (only sensible with --tiny)")
    p.add_argument("--docs", type=int, default=None, help="documents (default 64; --tiny 4)")
    p.add_argument("--tokens", type=int, default=None, help="tokens per document (default 1024; --tiny 64)")
    p.add_argument("--repeat", type=int, default=3, help="timed passes of each engine (median)")
    p.add_argument("--seed", type=int, default=0, help="weights, token ids and the subset")
    p.add_argument("--experts-impl", default="auto",
                   help="transformers experts implementation: auto (grouped_mm, else eager) or a name")
    p.add_argument("--shard-size", default="5GB", help="save_pretrained max_shard_size")
    p.add_argument("--expert-gemms", default="loop,grouped",
                   help="moescope's expert GEMM modes to run (MOESCOPE_CUDA_EXPERTS), comma-separated: loop, grouped")
    p.add_argument("--skip-transformers", action="store_true", help="moescope only")
    p.add_argument("--skip-moescope", action="store_true", help="transformers only")
    p.add_argument("--time-limit", type=float, default=0,
                   help="seconds for the whole script; the moescope runs are stopped at it (0: none)")
    a = p.parse_args(argv)
    a.expert_gemms = [m for m in a.expert_gemms.split(",") if m]
    if not a.expert_gemms or any(m not in ("loop", "grouped") for m in a.expert_gemms):
        p.error("--expert-gemms takes loop, grouped or both")
    shape = SHAPES["tiny" if a.tiny else "emo-1b14b"]
    a.docs = a.docs if a.docs is not None else shape["docs"]
    a.tokens = a.tokens if a.tokens is not None else shape["tokens"]
    if a.docs < 1 or a.tokens < 2 or a.tokens > shape["context"] or a.repeat < 1:
        p.error(f"need --docs >= 1, 2 <= --tokens <= {shape['context']}, --repeat >= 1")
    return a


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    t_start = time.monotonic()
    deadline = t_start + args.time_limit if args.time_limit > 0 else None
    shape_name = "tiny" if args.tiny else "emo-1b14b"
    s = SHAPES[shape_name]
    res = Result(args.out)
    d = res.data
    d["model"] = {"name": f"olmoe-{shape_name}-random-bf16", "shape": s, "parameters": param_count(s),
                  "documents": args.docs, "tokens_per_document": args.tokens, "seed": args.seed}
    holder = {}
    try:
        t = time.monotonic()
        import torch
        import transformers
        device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("--device cuda but PyTorch sees no CUDA device")
        if device == "cpu" and not args.tiny:
            log("warning: the full-size model on a CPU will not finish in any useful time (use --tiny)")
        args.device_used = device
        d["versions"] = {"python": sys.version.split()[0], "torch": torch.__version__,
                         "torch_cuda": torch.version.cuda, "transformers": transformers.__version__}
        gpu = torch.cuda.get_device_name(0) if device == "cuda" else "no GPU (CPU run)"
        d["machine"] = {"gpu": gpu, "cpus": os.cpu_count(),
                        "gpu_memory_bytes": torch.cuda.get_device_properties(0).total_memory if device == "cuda" else None}
        log(f"torch {torch.__version__} (CUDA {torch.version.cuda}), transformers {transformers.__version__}, "
            f"device {device}: {gpu}")
        res.phase("import", time.monotonic() - t)

        # The checkpoint: reused when complete, else built on the device and saved.
        os.makedirs(args.work_dir, exist_ok=True)
        model_dir = os.path.join(args.work_dir, d["model"]["name"])
        need = param_count(s) * 2
        if checkpoint_complete(model_dir, s, args.seed):
            log(f"checkpoint: reusing {model_dir}")
            d["model"]["checkpoint"] = {"path": model_dir, "reused": True, "bytes": folder_bytes(model_dir)}
        else:
            free = shutil.disk_usage(args.work_dir).free
            if free < need * 1.05 + GIB:
                raise RuntimeError(f"{args.work_dir}: {free / GIB:.1f} GiB free, the checkpoint needs "
                                   f"{need / GIB:.1f} GiB (--work-dir elsewhere)")
            t = time.monotonic()
            holder["model"] = build_model(s, device, args.seed)
            sync(device)
            res.phase("build_model_on_device", time.monotonic() - t)
            t = time.monotonic()
            save_checkpoint(holder["model"], model_dir, s, args.seed, args.shard_size)
            took = time.monotonic() - t
            size = folder_bytes(model_dir)
            d["model"]["checkpoint"] = {"path": model_dir, "reused": False, "bytes": size,
                                        "write_gb_per_s": round(size / took / 1e9, 3)}
            log(f"checkpoint: wrote {size / 1e9:.1f} GB in {took:.1f} s ({size / took / 1e9:.2f} GB/s) to {model_dir}")
            res.phase("save_checkpoint", took)
        subset = os.path.join(args.work_dir, f"subset-{s['keep']}-of-{s['experts']}.json")
        write_subset(subset, s, args.seed)
        d["model"]["subset_file"] = subset

        # (i) transformers.
        if not args.skip_transformers:
            t = time.monotonic()
            if "model" not in holder:
                from transformers import OlmoeForCausalLM
                try:
                    holder["model"] = OlmoeForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16, device_map=device)
                except TypeError:
                    holder["model"] = OlmoeForCausalLM.from_pretrained(model_dir, torch_dtype=torch.bfloat16,
                                                                       device_map=device)
                holder["model"].eval()
                sync(device)
                res.phase("transformers_load_checkpoint", time.monotonic() - t)
                t = time.monotonic()
            try:
                run_transformers(holder["model"], s, args, device, res)
            except Interrupted:
                raise
            except Exception as e:  # recorded; moescope still runs
                d.setdefault("transformers", {})["error"] = f"{type(e).__name__}: {e}"
                log(f"transformers FAILED: {type(e).__name__}: {e}")
            res.phase("transformers", time.monotonic() - t)
        left = free_model(holder, device)
        if "transformers" in d:
            d["transformers"]["gpu_bytes_allocated_after_free"] = left

        # (ii) moescope, all experts then the subset.
        if not args.skip_moescope:
            env = dict(os.environ)
            if args.cli_lib_path:
                env["LD_LIBRARY_PATH"] = args.cli_lib_path
            if not os.path.exists(args.cli):
                raise RuntimeError(f"{args.cli}: no such program (tools/gpu-check.sh --prepare builds it)")
            t = time.monotonic()
            d["moescope_info"] = run_info(args, model_dir, subset, env)
            res.phase("moescope_info", time.monotonic() - t)
            # Expert GEMMs one cuBLAS call per expert (loop) or one grouped call per round (grouped):
            # kernels/cuda/gemm.h, chosen by MOESCOPE_CUDA_EXPERTS. All experts first, then the subset.
            modes = args.expert_gemms if device == "cuda" else ["loop"]
            for key in RUN_KEYS:
                which, mode = key.split("_")[1], key.split("_")[2]
                if mode not in modes:
                    continue
                if deadline and deadline - time.monotonic() < 20:
                    d[key] = {"error": "not run: the time limit was reached"}
                    log(f"{key}: not run, the time limit was reached")
                    continue
                t = time.monotonic()
                run_env = dict(env, MOESCOPE_CUDA_EXPERTS=mode) if device == "cuda" else env
                run_moescope_bench(args, s, model_dir, subset if which == "subset" else None, device, run_env, res,
                                   key, deadline)
                res.phase(key, time.monotonic() - t)
        failed = [k for k in ("transformers",) + RUN_KEYS if d.get(k, {}).get("error")]
        d["status"] = "complete" if not failed else "complete with errors in " + ", ".join(failed)
    except Interrupted as e:
        d["status"] = f"interrupted ({e})"
        log(f"interrupted: {e}")
    except Exception as e:
        d["status"] = f"failed: {type(e).__name__}: {e}"
        log(f"FAILED: {type(e).__name__}: {e}")
    finally:
        d["total_seconds"] = round(time.monotonic() - t_start, 3)
        if not hasattr(args, "device_used"):
            args.device_used = args.device
        try:
            summarize(res, s, args)
        except Exception as e:  # the summary must never hide the measurements
            log(f"(summary failed: {type(e).__name__}: {e})")
        res.save()
    return 0 if d["status"] == "complete" else 1


if __name__ == "__main__":
    sys.exit(main())
