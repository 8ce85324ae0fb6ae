#!/usr/bin/env python3
"""Peak memory of `moescope-cli route` on long texts: ~10k vs ~100k tokens, side by side.

Builds the texts from the held-out corpus (samples/corpus/heldout.jsonl, documents joined by blank
lines until the token count is reached; tokens counted with `moescope-cli tokenize`), then routes
each with `route --json` (stdout to /dev/null) on the EMO sample model, whose 1024-token context
splits them into windows, and prints per text: tokens, windows, seconds and peak resident memory
(the child's ru_maxrss from wait4), then the ratio of the two peaks. Rounds alternate between
the texts; medians are printed. The memory is flat when the ratio stays near 1 while the text
grows tenfold (the doctest in tests/app/test_cli_long_text.cpp asserts <= 1.5 on a fixture model).

Run:  python3 bench/long_text_memory.py [--threads N] [--repeat R] [--sizes 10000,100000]
Needs: any Python 3, build/moescope-cli built (tools/build.sh). Standard library only.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def token_count(cli, model, path):
    out = subprocess.run([cli, "tokenize", "--model", model, "--file", path, "--json"], check=True,
                         capture_output=True).stdout
    return len(json.loads(out)["ids"])


def make_text(cli, model, tokens, path):
    docs = [json.loads(line)["text"] for line in open(os.path.join(ROOT, "samples/corpus/heldout.jsonl"))]
    # Grow by whole documents, estimating from the bytes so far; check with the tokenizer.
    text, n = "", 0
    for d in docs:
        text = d if not text else text + "\n\n" + d
        if len(text.encode()) >= tokens * 3:  # the sample averages ~3.5 bytes a token
            with open(path, "w") as f:
                f.write(text)
            n = token_count(cli, model, path)
            if n >= tokens:
                return n
    sys.exit(f"the held-out corpus has fewer than {tokens} tokens")


def run(argv):
    """Seconds and peak RSS (KiB) of one command, stdout and stderr to /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, ru = os.wait4(pid, 0)
    seconds = time.perf_counter() - t0
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(argv)}")
    return seconds, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build/moescope-cli"))
    ap.add_argument("--model", default=os.path.join(ROOT, "samples/models/emo-sample"))
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        texts = []
        for s in sizes:
            path = os.path.join(tmp, f"text-{s}.txt")
            texts.append((s, path, make_text(args.cli, args.model, s, path)))
        rounds = {s: [] for s in sizes}
        for _ in range(args.repeat):
            for s, path, _ in texts:
                rounds[s].append(run([args.cli, "route", "--model", args.model, "--file", path, "--json",
                                      "--threads", str(args.threads)]))
    context = json.load(open(os.path.join(args.model, "config.json")))["max_position_embeddings"]
    peaks = {}
    for s, _, n in texts:
        secs = statistics.median(r[0] for r in rounds[s])
        peaks[s] = statistics.median(r[1] for r in rounds[s]) / 1024
        print(f"{n:8d} tokens ({-(-n // context)} windows of {context}): {secs:7.2f} s, "
              f"{n / secs:8.0f} tokens/s, peak RSS {peaks[s]:7.1f} MiB")
    first, last = sizes[0], sizes[-1]
    print(f"peak RSS ratio {last} / {first} tokens: {peaks[last] / peaks[first]:.2f}")


if __name__ == "__main__":
    main()
