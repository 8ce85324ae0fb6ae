#!/usr/bin/env python3
"""The sample pair's mini-reproduction of the EMO paper: emo-sample vs std-sample.

  python3 tools/train/evaluate.py [--train build/corpus/train.jsonl] [--out samples/results.json]

1. Per domain, expert subsets keeping 25% and 12.5% of the standard experts of every layer,
   chosen by mean router probability over that domain's *training* documents (the shared expert
   is always kept); random subsets of the same size as a baseline.
2. Held-out loss of each model in full and under each subset, measured with moescope itself
   (`moescope-cli score --corpus ... --keep ...`).
3. Modularity: k-means (k = number of domains) on per-document expert-usage vectors of the
   held-out documents, NMI against the domain labels.
Prints the table (markdown) and writes every number to --out.

The router probabilities for step 1 and the usage vectors for step 3 come from the PyTorch
network of moe_model.py loaded from the saved BF16 checkpoint in eval mode (plain top-k, the
routing moescope runs; tests/samples checks they agree).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from moe_model import load_checkpoint  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = ("emo-sample", "std-sample")
BUDGETS = (0.25, 0.125)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@torch.no_grad()
def routing_stats(model, tok, texts, max_tokens, batch_tokens=8192):
    """Per document: mean router probability [L, Es] and top-k frequency [L, Es] (standard experts)."""
    Es, Kr = model.s.experts - 1, model.s.top_k - 1
    out_p, out_f = [], []
    for text in texts:
        ids = tok.encode(text).ids[:max_tokens]
        x = torch.tensor([ids])
        h = model.embed_tokens(x)
        doc, pos, G = model.segments(x)
        # the same forward as MoEModel.forward, keeping the router outputs
        ang = pos[..., None].float() * model.inv_freq
        ang = torch.cat([ang, ang], -1)[:, None]
        cos, sin = ang.cos(), ang.sin()
        T = x.shape[1]
        mask = ((doc[:, :, None] == doc[:, None, :]) & torch.ones(T, T, dtype=torch.bool).tril())[:, None]
        probs, freqs = [], []
        for blk in model.layers:
            h = h + blk.self_attn(blk.pre_attention_layernorm(h), cos, sin, mask)
            u = blk.pre_feedforward_layernorm(h).reshape(T, -1)
            p = torch.softmax(blk.mlp.gate(u)[:, :Es].float(), -1)
            ids_k = p.topk(Kr, -1).indices
            probs.append(p.mean(0))
            freqs.append(torch.zeros(Es).index_add_(0, ids_k.reshape(-1), torch.ones(ids_k.numel())) / T)
            y, _, _ = blk.mlp(u, doc.reshape(-1), G, None)
            h = h + y.view(1, T, -1)
        out_p.append(torch.stack(probs).numpy())
        out_f.append(torch.stack(freqs).numpy())
    return np.stack(out_p), np.stack(out_f)


def kmeans(x, k, seed, restarts=10, iters=100):
    """k-means++ with restarts; returns the labels of the lowest-inertia run."""
    rng = np.random.default_rng(seed)
    best, best_inertia = None, math.inf
    for _ in range(restarts):
        centers = [x[rng.integers(len(x))]]
        for _ in range(1, k):
            d2 = np.min(((x[:, None] - np.array(centers)[None]) ** 2).sum(-1), 1)
            centers.append(x[rng.choice(len(x), p=d2 / d2.sum())])
        c = np.array(centers)
        for _ in range(iters):
            labels = ((x[:, None] - c[None]) ** 2).sum(-1).argmin(1)
            new = np.array([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)])
            if np.allclose(new, c):
                break
            c = new
        inertia = ((x - c[labels]) ** 2).sum()
        if inertia < best_inertia:
            best, best_inertia = labels, inertia
    return best


def nmi(a, b):
    """Normalized mutual information (arithmetic-mean normalisation, as scikit-learn's default)."""
    a, b = np.asarray(a), np.asarray(b)
    ua, ia = np.unique(a, return_inverse=True)
    ub, ib = np.unique(b, return_inverse=True)
    joint = np.zeros((len(ua), len(ub)))
    np.add.at(joint, (ia, ib), 1)
    joint /= joint.sum()
    pa, pb = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = (joint[nz] * np.log(joint[nz] / (pa[:, None] * pb[None])[nz])).sum()
    ha, hb = -(pa * np.log(pa)).sum(), -(pb * np.log(pb)).sum()
    return float(mi / ((ha + hb) / 2)) if ha + hb > 0 else 0.0


def moescope_score(cli, model_dir, corpus, keep=None, max_tokens=1024):
    cmd = [cli, "score", "--model", model_dir, "--corpus", corpus, "--max-tokens-per-doc", str(max_tokens), "--json"]
    if keep:
        cmd += ["--keep", keep]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", default=os.path.join(ROOT, "build", "corpus", "train.jsonl"))
    ap.add_argument("--heldout", default=os.path.join(ROOT, "samples", "corpus", "heldout.jsonl"))
    ap.add_argument("--models", default=os.path.join(ROOT, "samples", "models"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "moescope-cli"))
    ap.add_argument("--select-docs", type=int, default=60, help="training documents per domain for selection")
    ap.add_argument("--max-tokens", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(ROOT, "samples", "results.json"))
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)

    heldout = read_jsonl(args.heldout)
    domains = sorted({d["domain"] for d in heldout})
    train_by_domain = {d: [] for d in domains}
    for doc in read_jsonl(args.train):
        if doc["domain"] in train_by_domain and len(train_by_domain[doc["domain"]]) < args.select_docs:
            train_by_domain[doc["domain"]].append(doc["text"])
    tmp = tempfile.mkdtemp(prefix="moescope-eval-")
    for d in domains:
        with open(os.path.join(tmp, f"heldout-{d}.jsonl"), "w", encoding="utf-8") as f:
            for doc in heldout:
                if doc["domain"] == d:
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")

    results = {"domains": domains, "budgets": list(BUDGETS), "models": {}}
    for name in MODELS:
        rng = np.random.default_rng(args.seed)  # the same random subsets for both models
        model_dir = os.path.join(args.models, name)
        model = load_checkpoint(model_dir)
        tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        Es, L = model.s.experts - 1, model.s.layers
        full = moescope_score(args.cli, model_dir, args.heldout, max_tokens=args.max_tokens)
        per_domain_full = {x["domain"]: x for x in full["domains"]}
        r = {"full": full["total"], "domains": {}}
        for d in domains:
            mean_p, _ = routing_stats(model, tok, train_by_domain[d], args.max_tokens)
            score = mean_p.mean(0)                                  # [L, Es]
            entry = {"full_nll": per_domain_full[d]["mean_nll"], "subsets": {}}
            for budget in BUDGETS:
                keep_n = max(model.s.top_k - 1, round(budget * Es))
                chosen = [sorted(np.argsort(-score[l])[:keep_n].tolist()) for l in range(L)]
                random = [sorted(rng.choice(Es, keep_n, replace=False).tolist()) for _ in range(L)]
                for kind, kept in (("domain", chosen), ("random", random)):
                    keep_path = os.path.join(tmp, f"{name}-{d}-{budget}-{kind}.json")
                    with open(keep_path, "w") as f:
                        json.dump({"experts_kept_per_layer": kept}, f)
                    s = moescope_score(args.cli, model_dir, os.path.join(tmp, f"heldout-{d}.jsonl"), keep_path,
                                       args.max_tokens)["total"]
                    entry["subsets"][f"{kind}@{budget}"] = {"kept": keep_n, "mean_nll": s["mean_nll"],
                                                           "rel_increase": s["mean_nll"] / entry["full_nll"] - 1}
            r["domains"][d] = entry
            print(f"{name} {d}: full {entry['full_nll']:.3f} " + " ".join(
                f"{k} {v['mean_nll']:.3f}" for k, v in entry["subsets"].items()), flush=True)
        mean_p, freq = routing_stats(model, tok, [x["text"] for x in heldout], args.max_tokens)
        labels = [x["domain"] for x in heldout]
        r["nmi_topk_freq"] = nmi(labels, kmeans(freq.reshape(len(heldout), -1), len(domains), args.seed))
        r["nmi_mean_prob"] = nmi(labels, kmeans(mean_p.reshape(len(heldout), -1), len(domains), args.seed))
        results["models"][name] = r

    # The table.
    emo, std = results["models"]["emo-sample"], results["models"]["std-sample"]
    lines = ["| | emo-sample | std-sample |", "|---|---:|---:|",
             f"| held-out mean NLL, full model (nats/token) | {emo['full']['mean_nll']:.4f} | {std['full']['mean_nll']:.4f} |",
             f"| held-out bits per byte, full model | {emo['full']['bits_per_byte']:.4f} | {std['full']['bits_per_byte']:.4f} |"]
    summary = {}
    for budget in BUDGETS:
        for kind in ("domain", "random"):
            key = f"{kind}@{budget}"
            e = float(np.mean([emo["domains"][d]["subsets"][key]["rel_increase"] for d in domains]))
            s = float(np.mean([std["domains"][d]["subsets"][key]["rel_increase"] for d in domains]))
            summary[key] = {"emo": e, "std": s}
            label = "per-domain subset" if kind == "domain" else "random subset"
            kept = emo["domains"][domains[0]]["subsets"][key]["kept"]
            lines.append(f"| {label}, {kept} of {Es} experts ({budget:.1%}): loss increase, mean over domains "
                         f"| {100 * e:+.1f}% | {100 * s:+.1f}% |")
    lines.append(f"| k-means NMI vs domain labels (top-k frequency vectors) | {emo['nmi_topk_freq']:.3f} | {std['nmi_topk_freq']:.3f} |")
    lines.append(f"| k-means NMI vs domain labels (mean probability vectors) | {emo['nmi_mean_prob']:.3f} | {std['nmi_mean_prob']:.3f} |")
    results["summary"] = summary
    results["full_loss_gap"] = emo["full"]["mean_nll"] / std["full"]["mean_nll"] - 1
    lines.append(f"\nFull-model loss gap (emo / std - 1): {100 * results['full_loss_gap']:+.2f}%")
    for budget in BUDGETS:
        k = f"domain@{budget}"
        ratio = summary[k]["emo"] / summary[k]["std"] if summary[k]["std"] else float("nan")
        lines.append(f"Per-domain subset at {budget:.1%}: emo's loss increase is {ratio:.2f}x std's (target < 0.5)")
    results["table_markdown"] = "\n".join(lines)
    with open(args.out + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(args.out + ".tmp", args.out)
    print("\n" + results["table_markdown"])


if __name__ == "__main__":
    main()
