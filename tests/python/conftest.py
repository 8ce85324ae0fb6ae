"""Shared fixtures of the Python package's tests: paths, and moescope-cli (the oracle the package
must agree with) run as a program."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "models"
SAMPLES = ROOT / "samples" / "models"
CLI = Path(os.environ.get("MOESCOPE_CLI", ROOT / "build" / "moescope-cli"))


def family_fixtures():
    """Every tiny model fixture with a tokenizer (one or more per supported family)."""
    return sorted(p for p in FIXTURES.iterdir() if (p / "config.json").exists() and (p / "tokenizer.json").exists())


@pytest.fixture(scope="session")
def cli():
    """cli(*args) -> parsed JSON of `moescope-cli ARGS --json`; cli.fail(*args) -> (exit code, stderr)."""
    if not CLI.exists():
        pytest.fail(f"{CLI} not found: build moescope first (bash tools/build.sh) or set MOESCOPE_CLI")

    class Cli:
        def __call__(self, *args):
            out = subprocess.run([str(CLI), *map(str, args), "--json"], capture_output=True, encoding="utf-8", errors="replace")
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout)

        def fail(self, *args):
            out = subprocess.run([str(CLI), *map(str, args)], capture_output=True, encoding="utf-8", errors="replace")
            return out.returncode, out.stderr.strip()

    return Cli()


def without_free_memory(info):
    """`info --json` less what changes from one moment to the next: the memory the system has free."""
    info = json.loads(json.dumps(info))
    info.get("memory", {}).pop("available_bytes", None)
    return info


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """A JSONL corpus of 4 documents in each of 3 domains from the committed held-out sample."""
    path = tmp_path_factory.mktemp("corpus") / "small.jsonl"
    taken = {}
    with open(ROOT / "samples" / "corpus" / "heldout.jsonl", encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        for line in src:
            d = json.loads(line)
            if d["domain"] in ("biology", "code_python", "lang_de") and taken.get(d["domain"], 0) < 4:
                taken[d["domain"]] = taken.get(d["domain"], 0) + 1
                out.write(line)
    return path
