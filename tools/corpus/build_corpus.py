#!/usr/bin/env python3
"""Builds moescope's labelled multi-domain corpus from Debian packages.

  python3 tools/corpus/build_corpus.py [--work DIR] [--heldout-out samples/corpus]

Steps: `apt-get download` each package of domains.py (cached in WORK/debs), unpack it with
`dpkg -x` (WORK/pkgs; nothing is installed), read every domain into documents labelled with
`domain` and `lang`, split train / held-out by document group (deterministic: a hash of the
group key, so a Bible chapter or a man page lands on the same side in every language), cap each
domain, and write
  WORK/train.jsonl                  the training part (rebuilt, never committed),
  samples/corpus/heldout.jsonl      the held-out part (committed),
  samples/corpus/LICENSES, samples/corpus/STATS.md.
Needs: python3, apt-get + dpkg-deb (Debian), groff (groff-base) to render man pages.
"""
import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from domains import DOMAINS, LICENSES, PARTIAL_EXTRACT  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fetch(packages, work):
    debs = os.path.join(work, "debs")
    os.makedirs(debs, exist_ok=True)
    missing = [p for p in packages if not glob.glob(os.path.join(debs, f"{p}_*.deb"))]
    if missing:
        print(f"downloading {len(missing)} packages", flush=True)
        subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
    versions = {}
    for p in packages:
        deb = sorted(glob.glob(os.path.join(debs, f"{p}_*.deb")))[-1]
        versions[p] = os.path.basename(deb).split("_")[1]
        target = os.path.join(work, "pkgs", p)
        if os.path.isdir(target):
            continue
        tmp = target + ".tmp"
        subprocess.run(["rm", "-rf", tmp], check=True)
        os.makedirs(tmp)
        if p in PARTIAL_EXTRACT:
            tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", tmp, *PARTIAL_EXTRACT[p]], stdin=tar.stdout, check=True)
            tar.wait()
        else:
            subprocess.run(["dpkg", "-x", deb, tmp], check=True)
        os.rename(tmp, target)
    return versions


def unit(key):
    """Deterministic number in [0, 1) from a split key."""
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") / 2.0 ** 64


def split_key(group):
    # Parts of one file ("...#3") stay together; grouped entries ("...@12") are separate units.
    return group.split("#")[0]


def namespace(key):
    return key.split(":")[0] if key.startswith(("bible:", "man:")) else None


def split(docs_by_domain, heldout_bytes, cap_bytes):
    """Returns (train, heldout) lists of docs; aligned groups never straddle the split."""
    size = {d: sum(len(x.text.encode()) for x in docs) for d, docs in docs_by_domain.items()}
    frac = {d: min(0.3, max(0.005, 3 * heldout_bytes / max(1, size[d]))) for d in docs_by_domain}
    # A namespace shared by several domains (man pages, Bible chapters) uses the largest of their
    # fractions, so every domain gets enough held-out; surplus held-out docs are dropped, not moved.
    ns_frac = {}
    for d, docs in docs_by_domain.items():
        for x in docs:
            ns = namespace(split_key(x.group))
            if ns:
                ns_frac[ns] = max(ns_frac.get(ns, 0.0), frac[d])
    train, heldout = [], []
    for d in sorted(docs_by_domain):
        ranked = sorted(docs_by_domain[d], key=lambda x: (unit(split_key(x.group)), x.group))
        held_bytes = train_bytes = 0
        for x in ranked:
            key = split_key(x.group)
            ns = namespace(key)
            n = len(x.text.encode())
            if unit(key) < (ns_frac[ns] if ns else frac[d]):
                if held_bytes < heldout_bytes:
                    heldout.append(x)
                    held_bytes += n
            elif train_bytes < cap_bytes:
                train.append(x)
                train_bytes += n
    return train, heldout


def write_jsonl(path, docs):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for x in docs:
            f.write(json.dumps({"text": x.text, "domain": x.domain, "lang": x.lang, "source": x.source},
                               ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def write_licenses(path, versions, used_sources):
    lines = ["Licences of the texts in heldout.jsonl (and of the training part the build script makes).",
             "Each document's `source` field starts with the Debian package it came from; the package's",
             "/usr/share/doc/<package>/copyright (in Debian bookworm) is the authoritative statement.", "",
             f"{'package':<26}{'version':<32}licence"]
    for p in sorted(versions):
        if p in used_sources:
            lines.append(f"{p:<26}{versions[p]:<32}{LICENSES.get(p, 'see the package copyright file')}")
    lines += ["", "The `legal` domain also quotes each package's copyright file; those files carry",
              "the licence of the package they come from."]
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def write_stats(path, train, heldout, args):
    def table(docs):
        out = {}
        for x in docs:
            s = out.setdefault(x.domain, [0, 0, set()])
            s[0] += 1
            s[1] += len(x.text.encode())
            s[2].add(x.lang)
        return out
    tr, he = table(train), table(heldout)
    lines = ["# Corpus statistics", "",
             f"Made by `tools/corpus/build_corpus.py` (held-out target {args.heldout_kb} KB and training cap "
             f"{args.cap_mb} MB per domain).", "",
             "| domain | lang | train docs | train MB | held-out docs | held-out KB |", "|---|---|---:|---:|---:|---:|"]
    for d in sorted(tr.keys() | he.keys()):
        t, h = tr.get(d, [0, 0, set()]), he.get(d, [0, 0, set()])
        lines.append(f"| {d} | {','.join(sorted(t[2] | h[2]))} | {t[0]} | {t[1] / 1e6:.2f} | {h[0]} | {h[1] / 1e3:.0f} |")
    lines.append(f"| **total** | | {len(train)} | {sum(v[1] for v in tr.values()) / 1e6:.1f} | {len(heldout)} | "
                 f"{sum(v[1] for v in he.values()) / 1e3:.0f} |")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "corpus"), help="download/unpack/train folder")
    ap.add_argument("--heldout-out", default=os.path.join(ROOT, "samples", "corpus"))
    ap.add_argument("--cap-mb", type=float, default=4.5, help="training text per domain (MB)")
    ap.add_argument("--heldout-kb", type=float, default=250, help="held-out text per domain (KB)")
    ap.add_argument("--domains", default="", help="comma-separated subset (default: all)")
    args = ap.parse_args()

    names = [d for d in (args.domains.split(",") if args.domains else DOMAINS)]
    packages = sorted({p for d in names for p in DOMAINS[d][1]} | {"base-files", "ruby-licensee", "doc-debian"})
    versions = fetch(packages, args.work)
    pkgs = os.path.join(args.work, "pkgs")
    docs_by_domain = {}
    for d in names:
        t0 = time.time()
        docs = [x for x in DOMAINS[d][0](pkgs) if x.text.strip()]
        docs_by_domain[d] = docs
        print(f"{d:<20}{len(docs):>7} docs {sum(len(x.text.encode()) for x in docs) / 1e6:8.2f} MB "
              f"({time.time() - t0:.0f} s)", flush=True)
    train, heldout = split(docs_by_domain, args.heldout_kb * 1e3, args.cap_mb * 1e6)
    train.sort(key=lambda x: unit("order:" + x.group))  # domains interleaved, deterministic
    os.makedirs(args.heldout_out, exist_ok=True)
    write_jsonl(os.path.join(args.work, "train.jsonl"), train)
    write_jsonl(os.path.join(args.heldout_out, "heldout.jsonl"), heldout)
    used = {x.source.split(":")[0] for x in train + heldout}
    write_licenses(os.path.join(args.heldout_out, "LICENSES"), versions, used)
    write_stats(os.path.join(args.heldout_out, "STATS.md"), train, heldout, args)
    print(f"train: {len(train)} docs, {sum(len(x.text.encode()) for x in train) / 1e6:.1f} MB -> "
          f"{os.path.join(args.work, 'train.jsonl')}")
    print(f"held-out: {len(heldout)} docs, {sum(len(x.text.encode()) for x in heldout) / 1e3:.0f} KB -> "
          f"{os.path.join(args.heldout_out, 'heldout.jsonl')}")


if __name__ == "__main__":
    main()
