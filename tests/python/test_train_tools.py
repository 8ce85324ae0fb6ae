"""tools/train's standard-library scripts: bad arguments refused before any model work, and
samples/README.md's tables regenerated from evaluate.py's results."""

import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import ROOT

TRAIN_TOOLS = ROOT / "tools" / "train"


def load_fill_readme():
    spec = importlib.util.spec_from_file_location("fill_readme", TRAIN_TOOLS / "fill_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seeds", ["0", "-3"])
def test_evaluate_refuses_fewer_than_one_kmeans_seed(seeds, tmp_path):
    out = tmp_path / "results.json"
    run = subprocess.run([sys.executable, str(TRAIN_TOOLS / "evaluate.py"), "--kmeans-seeds", seeds, "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert f"--kmeans-seeds must be at least 1, got {seeds}" in run.stderr
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--pool-warmup", "-1"], "--pool-warmup must be 0 (off) or a number of steps, got -1"),
    (["--pool-min", "2"], "got --pool-min 2 --pool-max 31"),          # below top-k - 1 = 3
    (["--pool-min", "20", "--pool-max", "10"], "got --pool-min 20 --pool-max 10"),
    (["--pool-max", "40"], "got --pool-min 8 --pool-max 40"),         # above the 31 standard experts
])
def test_train_refuses_bad_pool_settings_before_loading_anything(args, message, tmp_path):
    # The test environment has no torch: a refusal must come from the argument checks alone.
    out = tmp_path / "model"
    run = subprocess.run([sys.executable, str(TRAIN_TOOLS / "train.py"), "--router", "emo", "--corpus",
                          str(tmp_path / "train.jsonl"), "--tokenizer", str(tmp_path / "tokenizer.json"), "--out", str(out),
                          *args], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert message in run.stderr
    assert not out.exists()


RESULTS = {
    "table_markdown": "| measured with moescope | emo-sample | std-sample |\n|---|---|---|\n| NLL | 1.0 | 2.0 |",
    "load_table_markdown": "| layer | emo-sample min / max | x |\n|---|---|---|\n| 0 | 0.5 / 1.5 | y |",
    "domain_table_markdown": "| domain | emo 25% | std 25% |\n|---|---|---|\n| code | +1% | +9% |",
}

README = """# Samples

| measured with moescope | emo-sample | std-sample |
|---|---|---|
| NLL | 9.9 | 9.9 |
| stale row | 0 | 0 |

Prose the script must keep.

| layer | emo-sample min / max | x |
|---|---|---|
| 0 | 0.0 / 9.9 | y |

| domain | emo 25% | std 25% |
|---|---|---|
| old | +0% | +0% |"""


def test_fill_readme_replaces_each_table_and_keeps_the_prose():
    filled = load_fill_readme().fill(README, RESULTS)
    assert filled == ("# Samples\n\n" + RESULTS["table_markdown"] + "\n\nProse the script must keep.\n\n" +
                      RESULTS["load_table_markdown"] + "\n\n" + RESULTS["domain_table_markdown"])
    assert load_fill_readme().fill(filled, RESULTS) == filled   # a second run changes nothing


def test_fill_readme_names_a_missing_table_or_result():
    fill = load_fill_readme().fill
    with pytest.raises(ValueError, match=r"no table starting with '\| domain \| emo 25% \|'"):
        fill(README.split("\n\n| domain")[0], RESULTS)
    with pytest.raises(ValueError, match="results have no 'load_table_markdown'"):
        fill(README, {k: v for k, v in RESULTS.items() if k != "load_table_markdown"})


def test_fill_readme_leaves_the_readme_untouched_on_bad_results(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"table_markdown": "x"}), encoding="utf-8")
    run = subprocess.run([sys.executable, str(TRAIN_TOOLS / "fill_readme.py"), "--results", str(results),
                          "--readme", str(readme)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "fill_readme: results have no 'load_table_markdown'" in run.stderr
    assert readme.read_text(encoding="utf-8") == README
