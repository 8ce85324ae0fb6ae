#!/usr/bin/env python3
"""Trains one sample model (`--router emo` or `--router std`) on the training corpus, on CPU.

  python3 tools/train/train.py --router emo --corpus build/corpus/train.jsonl \
      --tokenizer build/train/tokenizer.json --out samples/models/emo-sample

Both samples use the same data order, steps, seed and hyper-parameters; only the router differs.
Documents are packed into rows of --seq tokens, each ending with EOS; attention and RoPE
positions restart at every document (moe_model.py). Writes OUT/config.json, OUT/model.safetensors
(BF16, EMO tensor names), OUT/tokenizer.json, OUT/train_log.csv (loss per step) and
OUT/training.json (the recipe and final numbers). Deterministic given --seed and --threads.
"""
import argparse
import csv
import json
import math
import os
import shutil
import time


def token_stream(corpus, tokenizer_path, cache):
    """All training documents tokenized and concatenated, each followed by EOS (cached as .npy)."""
    import numpy as np
    from tokenizers import Tokenizer
    if os.path.exists(cache):
        return np.load(cache)
    tok = Tokenizer.from_file(tokenizer_path)
    eos = tok.token_to_id("<|endoftext|>")
    with open(corpus, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    parts = []
    for i in range(0, len(texts), 512):
        for enc in tok.encode_batch(texts[i:i + 512]):
            parts.append(np.asarray(enc.ids + [eos], dtype=np.uint16))
    stream = np.concatenate(parts)
    tmp = f"{cache}.{os.getpid()}.tmp.npy"
    np.save(tmp, stream)
    os.replace(tmp, cache)
    return stream


def pool_min_at(step, warmup, pool_min, pool_max):
    """Lower bound of the pool-size draw at this step: pool_max at step 0, pool_min from step `warmup` on."""
    frac = min(1.0, step / warmup)
    return round(pool_max - (pool_max - pool_min) * frac)


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--router", choices=["emo", "std"], required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16, help="rows per step")
    ap.add_argument("--seq", type=int, default=512, help="tokens per row")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    # Defaults: the committed samples' recipe (0.01 over the pool-masked softmax left emo-sample with
    # unused experts; pools down to 4 after a warm-up starved a layer-0 expert; samples/README.md has
    # every recipe tried).
    ap.add_argument("--lb-weight", type=float, default=0.04)
    ap.add_argument("--lb-scores", choices=["pool", "all"], default="all",
                    help="load-balancing scores: the routed (pool-masked) softmax, EMO's recipe, or the softmax over "
                         "all standard experts (emo router; the same for std)")
    ap.add_argument("--z-weight", type=float, default=0.001)
    ap.add_argument("--pool-min", type=int, default=8)
    ap.add_argument("--pool-max", type=int, default=31)
    ap.add_argument("--pool-warmup", type=int, default=300,
                    help="emo router: over the first N steps the pool size's lower bound falls linearly from "
                         "--pool-max (full pools) to --pool-min, so experts are trained before pools can starve them")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--experts", type=int, default=32)
    ap.add_argument("--top-k", type=int, default=4)
    ap.add_argument("--expert-width", type=int, default=96)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokenize-only", action="store_true", help="make the token cache and stop")
    args = ap.parse_args()
    if args.pool_warmup < 0:
        ap.error(f"--pool-warmup must be 0 (off) or a number of steps, got {args.pool_warmup}")
    routed, standard = args.top_k - 1, args.experts - 1
    if not routed <= args.pool_min <= args.pool_max <= standard:
        ap.error(f"EMO's pool sizes must satisfy top-k - 1 = {routed} <= --pool-min <= --pool-max <= standard experts "
                 f"= {standard}, got --pool-min {args.pool_min} --pool-max {args.pool_max}")
    # Imported after the argument checks, so a bad argument is refused without torch installed.
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from tokenizers import Tokenizer

    from moe_model import ModelSpec, MoEModel
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tok = Tokenizer.from_file(args.tokenizer)
    stream = token_stream(args.corpus, args.tokenizer, os.path.join(os.path.dirname(os.path.abspath(args.tokenizer)),
                                                                    "train_tokens.npy"))
    if args.tokenize_only:
        print(f"{len(stream)} training tokens cached")
        return
    rows = len(stream) // (args.seq + 1)
    spec = ModelSpec(vocab=tok.get_vocab_size(), hidden=args.hidden, layers=args.layers, heads=args.heads,
                     experts=args.experts, top_k=args.top_k, expert_width=args.expert_width,
                     context=max(1024, args.seq), eos=tok.token_to_id("<|endoftext|>"))
    model = MoEModel(spec, args.router, args.pool_min, args.pool_max, args.lb_scores)
    g_init = torch.Generator().manual_seed(args.seed)
    model.init_weights(g_init)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "embed" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    g_data = torch.Generator().manual_seed(args.seed + 1)   # same row order for both routers
    g_pool = torch.Generator().manual_seed(args.seed + 2)
    order = torch.randperm(rows, generator=g_data)
    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "train_log.csv")
    t_start = time.time()
    with open(log_path + ".tmp", "w", newline="") as logf:
        log = csv.writer(logf)
        log.writerow(["step", "lr", "loss", "lm_loss", "lb_loss", "z_loss", "tokens_seen", "seconds"])
        for step in range(args.steps):
            idx = order[(step * args.batch + torch.arange(args.batch)) % rows]
            batch = torch.from_numpy(np.stack([stream[i * (args.seq + 1):(i + 1) * (args.seq + 1)]
                                               for i in idx.tolist()]).astype(np.int64))
            x, y = batch[:, :-1], batch[:, 1:]
            # No loss on a target that starts a new document (the EOS token is the last of its doc).
            target_ok = x != spec.eos
            lr = lr_at(step, args.steps, args.lr, args.warmup)
            if args.pool_warmup > 0:
                model.set_pool_min(pool_min_at(step, args.pool_warmup, args.pool_min, args.pool_max))
            for grp in opt.param_groups:
                grp["lr"] = lr
            logits, lb, zl = model(x, g_pool)
            lm = torch.nn.functional.cross_entropy(logits.reshape(-1, spec.vocab), y.reshape(-1), reduction="none")
            lm = (lm * target_ok.reshape(-1)).sum() / target_ok.sum()
            loss = lm + args.lb_weight * lb + args.z_weight * zl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            elapsed = time.time() - t_start
            log.writerow([step, f"{lr:.6f}", f"{loss.item():.5f}", f"{lm.item():.5f}", f"{lb.item():.5f}",
                          f"{zl.item():.4f}", (step + 1) * args.batch * args.seq, f"{elapsed:.1f}"])
            if step % 25 == 0 or step == args.steps - 1:
                logf.flush()
                print(f"[{args.router}] step {step:5d}/{args.steps} lm {lm.item():.4f} lb {lb.item():.4f} "
                      f"z {zl.item():.2f} lr {lr:.5f} {elapsed:6.0f}s", flush=True)
    os.replace(log_path + ".tmp", log_path)

    model.eval()
    tensors = {k: v.to(torch.bfloat16) for k, v in model.hf_state_dict().items()}
    save_file(tensors, os.path.join(args.out, "model.safetensors.tmp"), metadata={"format": "pt"})
    os.replace(os.path.join(args.out, "model.safetensors.tmp"), os.path.join(args.out, "model.safetensors"))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(model.hf_config(), f, indent=2)
    shutil.copyfile(args.tokenizer, os.path.join(args.out, "tokenizer.json"))
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"args": vars(args), "train_tokens_available": int(len(stream)),
                   "tokens_seen": args.steps * args.batch * args.seq, "seconds": round(time.time() - t_start),
                   "torch": torch.__version__}, f, indent=2)
    print(f"saved {args.out} ({sum(v.numel() for v in tensors.values()) / 1e6:.2f} M parameters)")


if __name__ == "__main__":
    main()
