#!/usr/bin/env python3
"""Regenerate the measured tables of samples/README.md from evaluate.py's results.

  python3 tools/train/fill_readme.py [--results samples/results.json] [--readme samples/README.md]

Each table is found by its header line and runs to the next blank line; it is replaced by the
matching markdown that evaluate.py stored in the results. The prose around the tables (claims,
recipes tried) is written by hand and left as it is. Standard library only.
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# header line that starts the table in the README -> key of its markdown in results.json
TABLES = (
    ("| measured with moescope |", "table_markdown"),
    ("| layer | emo-sample min / max |", "load_table_markdown"),
    ("| domain | emo 25% |", "domain_table_markdown"),
)


def fill(readme, results):
    """readme text with every table of TABLES replaced by results' markdown; ValueError names what is missing."""
    for header, key in TABLES:
        if key not in results:
            raise ValueError(f"results have no '{key}' (written by tools/train/evaluate.py)")
        start = readme.find("\n" + header)
        if start < 0:
            raise ValueError(f"no table starting with '{header}' at the start of a line")
        start += 1
        end = readme.find("\n\n", start)
        end = len(readme) if end < 0 else end
        readme = readme[:start] + results[key].strip("\n") + readme[end:]
    return readme


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=os.path.join(ROOT, "samples", "results.json"))
    ap.add_argument("--readme", default=os.path.join(ROOT, "samples", "README.md"))
    args = ap.parse_args()
    try:
        with open(args.results, encoding="utf-8") as f:
            results = json.load(f)
        with open(args.readme, encoding="utf-8") as f:
            text = fill(f.read(), results)
    except (OSError, ValueError) as e:   # json.JSONDecodeError is a ValueError
        sys.exit(f"fill_readme: {e}")
    with open(args.readme + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(args.readme + ".tmp", args.readme)
    print(f"{args.readme}: {len(TABLES)} tables filled from {args.results}")


if __name__ == "__main__":
    main()
