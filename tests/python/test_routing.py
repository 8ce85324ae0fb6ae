"""Model.route / tokenize / score: the numbers moescope-cli prints, for both samples and a tiny
model of every family; and the transformers outputs committed with each family fixture."""

import json
import threading

import numpy as np
import pytest

import moescope
from conftest import SAMPLES, family_fixtures, without_free_memory

TEXT = "The experts ran. Die Experten liefen schnell 🙂 und def f(x): return x"
MODELS = [SAMPLES / "emo-sample", SAMPLES / "std-sample"] + family_fixtures()


def f32(values):
    """JSON numbers (null = NaN) as float32, as the CLI printed them (shortest round trip)."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float32)


@pytest.mark.parametrize("model_dir", MODELS, ids=lambda p: p.name)
def test_route_equals_cli_json(model_dir, cli):
    expected = cli("route", "--model", model_dir, "--text", TEXT, "--probs", "--router-logits")
    r = moescope.Model(model_dir).route(TEXT, probs=True, router_logits=True)
    T = len(expected["ids"])
    assert r.ids.dtype == np.int32 and r.ids.tolist() == expected["ids"]
    assert r.tokens == expected["tokens"]
    assert r.offsets.tolist() == expected["offsets"]
    # The CLI prints T - 1 NLLs (the last token predicts nothing); Routing.nll is [T], NaN there.
    assert r.nll.shape == (T,) and np.isnan(r.nll[-1])
    np.testing.assert_array_equal(r.nll[:-1], f32(expected["nll"]))
    assert r.windows.tolist() == [[w["start"], w["end"]] for w in expected["windows"]]
    assert r.layers == [layer["layer"] for layer in expected["layers"]]
    for m, layer in enumerate(expected["layers"]):
        K, E, Es = layer["k"], layer["num_experts"], layer["num_standard"]
        assert r.topk_ids[m].shape == (T, K)
        assert r.topk_ids[m].tolist() == layer["topk_ids"]
        np.testing.assert_array_equal(r.topk_weights[m], np.array(layer["topk_weights"], dtype=np.float32))
        np.testing.assert_array_equal(r.probs[m], np.array(layer["probs"], dtype=np.float32).reshape(T, Es))
        np.testing.assert_array_equal(r.router_logits[m], np.array(layer["router_logits"], dtype=np.float32).reshape(T, E))
        np.testing.assert_array_equal(r.doc_mean_probs[m], np.array(layer["doc_mean_probs"], dtype=np.float32).reshape(Es))
        np.testing.assert_array_equal(r.doc_topk_freq[m], np.array(layer["doc_topk_freq"], dtype=np.float32).reshape(Es))
    if r.layers and isinstance(r.topk_ids, np.ndarray):
        assert r.topk_ids.shape == (len(r.layers), T, expected["layers"][0]["k"])


@pytest.mark.parametrize("model_dir", family_fixtures(), ids=lambda p: p.name)
def test_route_matches_transformers(model_dir):
    """Against the fixture's expected.json (transformers, float32): token ids, NLL, router logits,
    top-k ids and weights of each committed document (tolerances of tests/engine/test_model_golden.cpp)."""
    expected = json.loads((model_dir / "expected.json").read_text(encoding="utf-8"))
    keep = model_dir / "keep.json"  # a fixture run with an expert keep mask (EMO's pruning_metadata.json key)
    model = moescope.Model(model_dir, keep=keep if keep.exists() else None)
    for doc, out in zip(expected["documents"], expected["outputs"]):
        r = model.route(doc["text"], router_logits=True)
        assert r.ids.tolist() == doc["ids"]
        np.testing.assert_allclose(r.nll[:-1], out["nll"], rtol=1e-4, atol=2e-4)
        for m, layer in enumerate(out.get("layers") or []):
            assert r.layers[m] == layer["layer"]
            np.testing.assert_allclose(r.router_logits[m], layer["router_logits"], rtol=1e-4, atol=2e-4)
            assert r.topk_ids[m].tolist() == layer["topk_ids"]
            np.testing.assert_allclose(r.topk_weights[m], layer["topk_weights"], rtol=1e-4, atol=2e-4)


def test_tokenize_and_score_equal_cli(cli):
    model_dir = SAMPLES / "emo-sample"
    model = moescope.Model(model_dir)
    enc = model.tokenize(TEXT)
    expected = cli("tokenize", "--model", model_dir, "--text", TEXT)
    assert enc.ids.tolist() == expected["ids"]
    assert enc.tokens == expected["tokens"]
    assert enc.offsets.tolist() == expected["offsets"]
    score = model.score(TEXT)
    assert score == cli("score", "--model", model_dir, "--text", TEXT)
    both = model.score([TEXT, "second text here"])
    assert both[0] == score and both[1] == cli("score", "--model", model_dir, "--text", "second text here")


def test_long_text_is_routed_in_windows_as_the_cli_routes_it(cli):
    model_dir = family_fixtures()[0]
    context = json.loads((model_dir / "config.json").read_text())["max_position_embeddings"]
    text = " ".join(f"word{i}" for i in range(context))  # several tokens per word: > context tokens
    r = moescope.Model(model_dir).route(text)
    expected = cli("route", "--model", model_dir, "--text", text)
    assert len(r.windows) > 1
    assert r.windows.tolist() == [[w["start"], w["end"]] for w in expected["windows"]]
    ends = [end - 1 for _, end in r.windows.tolist()]
    assert np.isnan(r.nll[ends]).all()
    np.testing.assert_array_equal(r.nll[:-1], f32(expected["nll"]))
    assert r.topk_ids[0].tolist() == expected["layers"][0]["topk_ids"]


def test_threads_route_with_one_model():
    model = moescope.Model(SAMPLES / "emo-sample", threads=1)
    alone = model.route(TEXT)
    results = [None] * 4

    def run(i):
        results[i] = model.route(TEXT)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r.topk_ids, alone.topk_ids)
        np.testing.assert_array_equal(r.topk_weights, alone.topk_weights)
        np.testing.assert_array_equal(r.nll, alone.nll)


def test_info_is_the_cli_json(cli):
    model_dir = SAMPLES / "std-sample"
    assert without_free_memory(moescope.Model(model_dir).info) == without_free_memory(cli("info", "--model", model_dir))
