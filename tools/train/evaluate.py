#!/usr/bin/env python3
"""The sample pair's mini-reproduction of the EMO paper, measured with moescope itself.

  python3 tools/train/evaluate.py [--train build/corpus/train.jsonl] [--out samples/results.json]

For emo-sample and std-sample:
1. `moescope-cli trace` the calibration documents (the first --select-docs training documents of
   every domain) and `moescope-cli subset ablate --eval samples/corpus/heldout.jsonl`: per domain,
   subsets keeping 25% and 12.5% of the standard experts of every layer, chosen by mean router
   probability over the domain's calibration documents (shared expert kept), against random
   subsets of the same size and the full model, scored on the domain's held-out documents.
2. `moescope-cli trace` + `analyze` the held-out corpus: EMO-style document clusters (k = number of
   domains) of the per-document routing vectors, NMI against the domain labels; expert-group
   modularity per layer.
3. `moescope-cli score --corpus`: the full models' held-out loss.
Prints the table (markdown) and writes every number to --out. Needs only Python's standard
library and a built moescope-cli.
"""
import argparse
import json
import os
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = ("emo-sample", "std-sample")
FRACTIONS = (0.25, 0.125)
FIRST_SEEDS = (42, 1, 2, 3, 4)  # the first k-means seeds (results before 2026-12-07 used only these); then 5, 6, ...
LOAD_FLOOR = 0.25  # issue 23: every standard expert gets at least this times the uniform share (analyze's rarely_used_below)


def cli(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out) if "--json" in args else out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", default=os.path.join(ROOT, "build", "corpus", "train.jsonl"))
    ap.add_argument("--heldout", default=os.path.join(ROOT, "samples", "corpus", "heldout.jsonl"))
    ap.add_argument("--models", default=os.path.join(ROOT, "samples", "models"))
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "moescope-cli"))
    ap.add_argument("--select-docs", type=int, default=60, help="calibration (training) documents per domain")
    ap.add_argument("--max-tokens", type=int, default=512, help="tokens per document (calibration and held-out)")
    ap.add_argument("--random-seeds", type=int, default=2)
    ap.add_argument("--kmeans-seeds", type=int, default=20,
                    help="k-means seeds per NMI (the seed spread, about 0.01, is as large as the gaps between models)")
    ap.add_argument("--out", default=os.path.join(ROOT, "samples", "results.json"))
    args = ap.parse_args()
    if args.kmeans_seeds < 1:
        ap.error(f"--kmeans-seeds must be at least 1, got {args.kmeans_seeds}")

    with open(args.heldout, encoding="utf-8") as f:
        domains = sorted({json.loads(line)["domain"] for line in f if line.strip()})
    work = tempfile.mkdtemp(prefix="moescope-eval-")
    calib = os.path.join(work, "calibration.jsonl")
    taken = {d: 0 for d in domains}
    with open(args.train, encoding="utf-8") as f, open(calib, "w", encoding="utf-8") as out:
        for line in f:
            doc = json.loads(line)
            if taken.get(doc["domain"], args.select_docs) < args.select_docs:
                taken[doc["domain"]] += 1
                out.write(line)

    results = {"domains": domains, "fractions": list(FRACTIONS), "models": {}, "settings": vars(args)}
    mt = str(args.max_tokens)
    seeds = (FIRST_SEEDS + tuple(range(5, args.kmeans_seeds)))[:args.kmeans_seeds]
    for name in MODELS:
        model = os.path.join(args.models, name)
        cfg = json.load(open(os.path.join(model, "config.json")))
        es = cfg["num_experts"] - cfg.get("num_shared_experts", 0)
        budgets = [max(1, round(fr * es)) for fr in FRACTIONS]
        ws_cal = os.path.join(work, f"{name}-calibration.moescope")
        ws_held = os.path.join(work, f"{name}-heldout.moescope")
        print(f"[{name}] trace calibration, ablate", flush=True)
        cli(args.cli, "trace", "--model", model, "--corpus", calib, "--workspace", ws_cal, "--max-tokens-per-doc", mt, "--json")
        ab = cli(args.cli, "subset", "ablate", "--workspace", ws_cal, "--eval", args.heldout, "--budgets",
                 ",".join(map(str, budgets)), "--random-seeds", str(args.random_seeds), "--max-tokens-per-doc", mt, "--json")
        print(f"[{name}] trace held-out, analyze, score", flush=True)
        cli(args.cli, "trace", "--model", model, "--corpus", args.heldout, "--workspace", ws_held, "--max-tokens-per-doc", mt,
            "--json")
        an = cli(args.cli, "analyze", "--workspace", ws_held, "--clusters", str(len(domains)), "--json")
        # k-means depends on its seed: NMI/ARI as the mean over several seeds, for both kinds of
        # per-document vectors (mean probabilities, EMO's default, and top-k frequencies).
        nmi = {}
        for features in ("mean_probs", "topk_freq"):
            runs = [cli(args.cli, "analyze", "--workspace", ws_held, "--clusters", str(len(domains)), "--cluster-features",
                        features, "--seed", str(seed), "--json")["document_clusters"] for seed in seeds]
            nmi[features] = {"nmi": [r["nmi"] for r in runs], "ari": [r["ari"] for r in runs],
                             "pca_components": runs[0]["pca_components"]}
        full = cli(args.cli, "score", "--model", model, "--corpus", args.heldout, "--max-tokens-per-doc", mt, "--json")

        per_domain = {}
        for d in domains:
            pts = [p for p in ab["points"] if p["domain"] == d]
            base = next(p["mean_nll"] for p in pts if p["method"] == "full")
            entry = {"full_nll": base}
            for fr, k in zip(FRACTIONS, budgets):
                sel = next(p["mean_nll"] for p in pts if p["method"] == "global_mean_prob" and p["k"] == k)
                rnd = [p["mean_nll"] for p in pts if p["method"] == "random" and p["k"] == k]
                entry[f"domain@{fr}"] = {"k": k, "mean_nll": sel, "rel_increase": sel / base - 1}
                entry[f"random@{fr}"] = {"k": k, "mean_nll": sum(rnd) / len(rnd), "rel_increase": sum(rnd) / len(rnd) / base - 1}
            per_domain[d] = entry
        dc = an["document_clusters"]
        results["models"][name] = {
            "full": full["total"], "domains": per_domain, "budgets": budgets,
            "doc_cluster_nmi": sum(nmi["mean_probs"]["nmi"]) / len(seeds),
            "doc_cluster_nmi_topk_freq": sum(nmi["topk_freq"]["nmi"]) / len(seeds),
            "doc_cluster_ari": sum(nmi["mean_probs"]["ari"]) / len(seeds), "doc_cluster_runs": nmi,
            "doc_cluster_label_entropy_bits": dc["mean_label_entropy_bits"],
            "group_modularity": [l["groups"]["modularity"] for l in an["layers"]],
            "pool_size_90": {l["layer"]: sum(x["pool_size"] for x in l["domains"]) / len(l["domains"]) for l in an["layers"]},
            # Expert load on the held-out corpus (analyze's expert_usage): each standard expert's share
            # of the routed selections against the uniform share, per layer.
            "load": {l["layer"]: {"min_vs_uniform": l["expert_usage"]["min_vs_uniform"],
                                  "max_vs_uniform": l["expert_usage"]["max_vs_uniform"],
                                  "rarely_used": l["expert_usage"]["rarely_used"],
                                  "never_used": l["expert_usage"]["never_used"]} for l in an["layers"]},
        }

    emo, std = results["models"]["emo-sample"], results["models"]["std-sample"]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    rows = [("held-out mean NLL, full model (nats/token)", f"{emo['full']['mean_nll']:.4f}", f"{std['full']['mean_nll']:.4f}"),
            ("held-out bits per byte, full model", f"{emo['full']['bits_per_byte']:.4f}", f"{std['full']['bits_per_byte']:.4f}")]
    summary = {}
    for fr in FRACTIONS:
        for kind in ("domain", "random"):
            key = f"{kind}@{fr}"
            e = mean([emo["domains"][d][key]["rel_increase"] for d in domains])
            s = mean([std["domains"][d][key]["rel_increase"] for d in domains])
            summary[key] = {"emo": e, "std": s}
            k = emo["domains"][domains[0]][key]["k"]
            label = "per-domain subset" if kind == "domain" else "random subset"
            rows.append((f"{label}, {k} of {es} experts ({fr:.1%}): held-out loss increase, mean over "
                         f"{len(domains)} domains", f"{100 * e:+.1f}%", f"{100 * s:+.1f}%"))
    rows.append((f"k-means NMI vs domain labels, per-document mean probabilities (mean of {len(seeds)} seeds)",
                 f"{emo['doc_cluster_nmi']:.3f}", f"{std['doc_cluster_nmi']:.3f}"))
    rows.append((f"k-means NMI vs domain labels, per-document top-k frequencies (mean of {len(seeds)} seeds)",
                 f"{emo['doc_cluster_nmi_topk_freq']:.3f}", f"{std['doc_cluster_nmi_topk_freq']:.3f}"))
    rows.append(("experts in a domain's 90% routing pool, mean over domains and layers (of 31)",
                 f"{mean(list(emo['pool_size_90'].values())):.1f}", f"{mean(list(std['pool_size_90'].values())):.1f}"))
    rows.append(("expert-group modularity, mean over layers", f"{mean(emo['group_modularity']):.3f}",
                 f"{mean(std['group_modularity']):.3f}"))
    rarely = {n: sum(len(v["rarely_used"]) for v in m["load"].values()) for n, m in (("emo", emo), ("std", std))}
    never = {n: sum(len(v["never_used"]) for v in m["load"].values()) for n, m in (("emo", emo), ("std", std))}
    layers_x_experts = len(emo["load"]) * es
    rows.append((f"expert-layers with < {LOAD_FLOOR}x the uniform share of selections (of {layers_x_experts}); never used",
                 f"{rarely['emo']}; {never['emo']}", f"{rarely['std']}; {never['std']}"))
    rows.append(("least / most used expert's share of selections vs uniform, over layers",
                 f"{min(v['min_vs_uniform'] for v in emo['load'].values()):.2f}x / "
                 f"{max(v['max_vs_uniform'] for v in emo['load'].values()):.2f}x",
                 f"{min(v['min_vs_uniform'] for v in std['load'].values()):.2f}x / "
                 f"{max(v['max_vs_uniform'] for v in std['load'].values()):.2f}x"))
    table = ["| measured with moescope | emo-sample | std-sample |", "|---|---:|---:|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    results["summary"] = summary
    results["full_loss_gap"] = emo["full"]["mean_nll"] / std["full"]["mean_nll"] - 1
    checks = [f"full-model loss gap (emo / std - 1): {100 * results['full_loss_gap']:+.2f}% (target within 5%)"]
    for fr in FRACTIONS:
        s = summary[f"domain@{fr}"]
        ratio = s["emo"] / s["std"] if s["std"] else float("nan")
        checks.append(f"per-domain subset at {fr:.1%}: emo's loss increase is {ratio:.2f}x std's (target < 0.5)")
    checks.append(f"NMI: emo {emo['doc_cluster_nmi']:.3f} vs std {std['doc_cluster_nmi']:.3f} (target: emo higher)")
    checks.append(f"load: expert-layers under {LOAD_FLOOR}x the uniform share: emo {rarely['emo']}, std {rarely['std']} "
                  "(target: 0 for both)")
    # Per layer: the least and most used standard expert (share of routed selections vs the uniform
    # share 1/Es) and the experts under the floor / never selected.
    load_table = ["| layer | emo-sample min / max | emo-sample < {f}x; never | std-sample min / max | std-sample < {f}x; never |"
                  .format(f=LOAD_FLOOR), "|---:|---:|---:|---:|---:|"]
    for layer in emo["load"]:
        cells = []
        for m in (emo, std):
            v = m["load"][layer]
            cells += [f"{v['min_vs_uniform']:.2f}x / {v['max_vs_uniform']:.2f}x", f"{len(v['rarely_used'])}; {len(v['never_used'])}"]
        load_table.append(f"| {layer} | " + " | ".join(cells) + " |")
    domain_table = ["| domain | emo 25% | std 25% | emo 12.5% | std 12.5% |", "|---|---:|---:|---:|---:|"]
    for d in domains:
        domain_table.append(f"| {d} | " + " | ".join(f"{100 * m['domains'][d][f'domain@{fr}']['rel_increase']:+.1f}%"
                                                     for fr in FRACTIONS for m in (emo, std)) + " |")
    results["table_markdown"] = "\n".join(table)
    results["load_table_markdown"] = "\n".join(load_table)
    results["domain_table_markdown"] = "\n".join(domain_table)
    results["checks"] = checks
    with open(args.out + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(args.out + ".tmp", args.out)
    print("\n" + results["table_markdown"] + "\n\n" + results["load_table_markdown"] + "\n\n" +
          results["domain_table_markdown"] + "\n\n" + "\n".join(checks))


if __name__ == "__main__":
    main()
