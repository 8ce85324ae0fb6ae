"""Workspaces from Python: trace (in process, resumable after Ctrl-C), reading documents and
records, per-domain usage, and the CLI's analyses (analyze, subset select/ablate/export,
export-emo) with the numbers moescope-cli gives."""

import json
import os
import signal
import sqlite3

import numpy as np
import pandas as pd
import pytest

import moescope
from conftest import SAMPLES, without_free_memory

MODEL = SAMPLES / "emo-sample"


@pytest.fixture(scope="module")
def traced(tmp_path_factory, small_corpus, cli):
    """The small corpus traced by moescope-cli (96 tokens per document): the reference workspace."""
    ws = tmp_path_factory.mktemp("ws") / "cli.moescope"
    cli("trace", "--model", MODEL, "--corpus", small_corpus, "--workspace", ws, "--max-tokens-per-doc", 96)
    return ws


def record_rows(path):
    """Every stored record of a workspace, read with sqlite3 (not through moescope)."""
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    assert "records" in tables, tables
    cols = [r[1] for r in con.execute("PRAGMA table_info(records)")]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM records ORDER BY doc_id").fetchall()
    con.close()
    return cols, rows


def test_documents_and_domains(traced, small_corpus):
    ws = moescope.Workspace(traced)
    docs = ws.documents
    lines = [json.loads(l) for l in open(small_corpus, encoding="utf-8")]
    assert list(docs.columns) == ["position", "id", "domain", "lang", "tokens"]
    assert docs["position"].tolist() == list(range(len(lines)))
    assert docs["domain"].tolist() == [d["domain"] for d in lines]
    assert docs["id"].tolist() == [d.get("id", f"line {i + 1}") for i, d in enumerate(lines)]
    assert (docs["tokens"] > 0).all() and (docs["tokens"] <= 96).all()
    assert ws.domains == ["biology", "code_python", "lang_de"]


def test_records_equal_the_routing_of_each_document(traced, small_corpus):
    """A traced document's records are its routing: the same as Model.route of its text (cut to the
    traced tokens), ids exactly, weights and means to float rounding (another batch composition)."""
    ws = moescope.Workspace(traced)
    model = moescope.Model(MODEL)
    lines = [json.loads(l) for l in open(small_corpus, encoding="utf-8")]
    for row in (0, 5, 11):
        rec = ws.records(row)
        T = len(rec.ids)
        assert T == ws.documents["tokens"][row]
        text = lines[row]["text"].encode("utf-8")[: rec.offsets[-1][1]].decode("utf-8", "ignore")
        full = model.route(text)
        assert rec.ids.tolist() == full.ids[:T].tolist()
        assert rec.tokens[0] == text.encode("utf-8")[rec.offsets[0][0]:rec.offsets[0][1]].decode("utf-8", "replace")
        assert rec.topk_ids.shape == (len(rec.layers), T, full.topk_ids.shape[2])
        np.testing.assert_array_equal(rec.topk_ids, full.topk_ids[:, :T])
        np.testing.assert_allclose(rec.topk_weights, full.topk_weights[:, :T], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rec.nll[:-1], full.nll[: T - 1], rtol=1e-4, atol=1e-5)
    assert ws.records(lines[3].get("id", "line 4")).ids.tolist() == ws.records(3).ids.tolist()


def test_domain_usage_is_analyze(traced, cli):
    ws = moescope.Workspace(traced)
    analysis = cli("analyze", "--workspace", traced)
    for layer in analysis["layers"]:
        for stat, key in (("mean_probs", "mean_prob"), ("topk_freq", "topk_freq")):
            frame = ws.domain_usage(layer["layer"], stat)
            assert isinstance(frame, pd.DataFrame) and frame.index.tolist() == ws.domains
            for d in layer["domains"]:
                np.testing.assert_allclose(frame.loc[d["domain"]].to_numpy(), d[key], rtol=1e-12, atol=0)
    assert ws.analyze() == analysis
    assert ws.analyze(pool_mass=0.8, clusters=3) == cli("analyze", "--workspace", traced, "--pool-mass", 0.8, "--clusters", 3)


def test_python_trace_equals_the_cli_trace(traced, small_corpus, tmp_path):
    mine = tmp_path / "py.moescope"
    summary = moescope.trace(moescope.Model(MODEL), small_corpus, mine, max_tokens_per_doc=96, progress=False)
    assert summary["traced_now"] == 12 and not summary["stopped"]
    assert record_rows(mine) == record_rows(traced)
    again = moescope.trace(moescope.Model(MODEL), small_corpus, mine, max_tokens_per_doc=96, progress=False)
    assert again["traced_now"] == 0 and again["already_traced"] == 12


def test_interrupted_trace_resumes(traced, small_corpus, tmp_path):
    """Ctrl-C during a trace: KeyboardInterrupt once the batch in flight is stored; trace() again finishes it,
    and the records are those of an uninterrupted trace."""
    ws = tmp_path / "int.moescope"
    model = moescope.Model(MODEL)
    calls = []

    def progress(done, total, tokens, seconds):
        calls.append(done)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as a Ctrl-C in the terminal or the notebook's stop button

    with pytest.raises(KeyboardInterrupt):
        moescope.trace(model, small_corpus, ws, max_tokens_per_doc=96, batch_tokens=100, progress=progress)
    partial = moescope.Workspace(ws).documents
    assert 0 < (partial["tokens"] > 0).sum() < 12
    summary = moescope.trace(model, small_corpus, ws, max_tokens_per_doc=96, batch_tokens=100, progress=False)
    assert summary["already_traced"] > 0 and summary["traced_now"] + summary["already_traced"] == 12
    # A resumed trace packs the same batches (finished documents ride along unstored): its records
    # are bit for bit those of one uninterrupted run.
    whole = tmp_path / "whole.moescope"
    moescope.trace(model, small_corpus, whole, max_tokens_per_doc=96, batch_tokens=100, progress=False)
    assert record_rows(ws) == record_rows(whole)


def test_trace_from_a_list_of_dicts(tmp_path):
    ws = tmp_path / "list.moescope"
    corpus = [{"text": "the river runs to the sea", "domain": "water"}, {"text": "def f(x): return x", "domain": "code"}]
    summary = moescope.trace(moescope.Model(MODEL), corpus, ws, progress=False)
    assert summary["documents"] == 2
    w = moescope.Workspace(ws)
    assert w.documents["id"].tolist() == ["item 0", "item 1"]
    assert w.domains == ["code", "water"]


def test_subsets_and_exports_equal_the_cli(traced, small_corpus, cli, tmp_path):
    ws = moescope.Workspace(traced)
    subset = ws.select_subset(4, domain="lang_de")
    assert subset.data == cli("subset", "select", "--workspace", traced, "--experts", 4, "--domain", "lang_de")
    path = subset.save(tmp_path / "de.json")
    assert json.loads(open(path, encoding="utf-8").read()) == subset.data
    assert [f for f in os.listdir(tmp_path) if f.startswith(".subset-")] == []  # no temp file left
    greedy = ws.select_subset(4, domain="biology", method="greedy")
    assert greedy.data == cli("subset", "select", "--workspace", traced, "--experts", 4, "--domain", "biology", "--method", "greedy")
    # A model loaded with the subset routes as `route --keep`.
    text = "Die Experten teilen sich die Arbeit"
    kept = moescope.Model(MODEL, keep=subset).route(text)
    expected = cli("route", "--model", MODEL, "--keep", path, "--text", text)
    assert kept.topk_ids[0].tolist() == expected["layers"][0]["topk_ids"]
    # The pruned checkpoint says what it was pruned from.
    out = tmp_path / "emo-de"
    summary = moescope.export_pruned(MODEL, subset, out)
    assert summary["out"] == str(out)
    assert without_free_memory(moescope.Model(out).info) == without_free_memory(cli("info", "--model", out))
    assert moescope.Model(out).info["pruned_from"]["domain"] == "lang_de"
    # export-emo writes what the CLI writes, byte for byte.
    a, b = tmp_path / "emo-py", tmp_path / "emo-cli"
    moescope.export_emo(MODEL, small_corpus, a, max_tokens_per_doc=32)
    cli("export-emo", "--model", MODEL, "--corpus", small_corpus, "--out", b, "--max-tokens-per-doc", 32)
    names = sorted(os.listdir(b))
    assert sorted(os.listdir(a)) == names
    for n in names:
        if n != "info.json":
            assert (a / n).read_bytes() == (b / n).read_bytes(), n


def test_ablate_is_the_cli_sweep(traced, small_corpus, cli, tmp_path):
    ws_path = tmp_path / "ablate.moescope"
    ws_path.write_bytes(traced.read_bytes())
    ws = moescope.Workspace(ws_path)
    frame = ws.ablate(eval=small_corpus, domain="lang_de", budgets=[4], random_seeds=1, max_tokens_per_doc=32)
    expected = cli("subset", "ablate", "--workspace", ws_path, "--eval", small_corpus, "--domain", "lang_de",
                   "--budgets", 4, "--random-seeds", 1, "--max-tokens-per-doc", 32)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(expected["points"]))  # seed: None in JSON, NaN in the frame
    assert {p["method"] for p in expected["points"]} == {"full", "global_mean_prob", "random"}
    assert frame.attrs["mean"] == expected["mean"]
