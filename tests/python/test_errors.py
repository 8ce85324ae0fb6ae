"""Bad input from Python: moescope.Error (a ValueError) with the message moescope-cli prints for
the same input, and nothing half done."""

import json

import pytest

import moescope
from conftest import SAMPLES


def cli_message(cli, *args):
    code, err = cli.fail(*args)
    assert code in (1, 2), err
    return err.split("moescope-cli: ", 1)[-1].removeprefix("error: ")


def check_same(exc_info, cli, *args):
    message = str(exc_info.value)
    assert message
    assert message in cli_message(cli, *args), (message, cli_message(cli, *args))


def test_error_is_a_value_error():
    assert issubclass(moescope.Error, ValueError)


def test_model_errors_are_the_cli_messages(cli, tmp_path):
    with pytest.raises(moescope.Error) as e:
        moescope.Model(tmp_path / "nothing-here")
    check_same(e, cli, "route", "--model", tmp_path / "nothing-here", "--text", "x")
    with pytest.raises(moescope.Error) as e:
        moescope.Model(SAMPLES / "emo-sample", precision="f8")
    check_same(e, cli, "route", "--model", SAMPLES / "emo-sample", "--precision", "f8", "--text", "x")
    bad = tmp_path / "bad.json"
    bad.write_text('{"experts_kept_per_layer": [[0, 1]]}')
    with pytest.raises(moescope.Error) as e:
        moescope.Model(SAMPLES / "emo-sample", keep=bad)
    check_same(e, cli, "route", "--model", SAMPLES / "emo-sample", "--keep", bad, "--text", "x")
    model = moescope.Model(SAMPLES / "emo-sample")
    with pytest.raises(moescope.Error, match="empty"):
        model.route("")
    with pytest.raises(moescope.Error, match="too short to score"):
        model.score("a")


def test_a_subset_is_refused_on_another_model(cli, tmp_path, small_corpus):
    ws = tmp_path / "w.moescope"
    moescope.trace(moescope.Model(SAMPLES / "emo-sample"), small_corpus, ws, max_tokens_per_doc=32, progress=False)
    subset = moescope.Workspace(ws).select_subset(4, domain="biology")
    path = subset.save(tmp_path / "bio.json")
    with pytest.raises(moescope.Error) as e:
        moescope.Model(SAMPLES / "std-sample", keep=subset)
    assert "chosen for another model" in str(e.value)
    check_same(e, cli, "route", "--model", SAMPLES / "std-sample", "--keep", path, "--text", "x")
    forced = moescope.Model(SAMPLES / "std-sample", keep=path, force_subset=True)
    assert forced.route("x y").ids.size == 2 or forced.route("x y").ids.size > 0


def test_workspace_errors(cli, tmp_path, small_corpus):
    with pytest.raises(moescope.Error) as e:
        moescope.Workspace(tmp_path / "none.moescope")
    check_same(e, cli, "analyze", "--workspace", tmp_path / "none.moescope")
    ws_path = tmp_path / "w.moescope"
    moescope.trace(moescope.Model(SAMPLES / "emo-sample"), small_corpus, ws_path, max_tokens_per_doc=32, progress=False)
    ws = moescope.Workspace(ws_path)
    with pytest.raises(moescope.Error) as e:
        ws.select_subset(4, domain="lang_dee")
    assert "did you mean lang_de?" in str(e.value)
    check_same(e, cli, "subset", "select", "--workspace", ws_path, "--experts", 4, "--domain", "lang_dee")
    with pytest.raises(moescope.Error) as e:
        ws.analyze(pool_mass=1.5)
    check_same(e, cli, "analyze", "--workspace", ws_path, "--pool-mass", 1.5)
    with pytest.raises(moescope.Error, match="not a MoE layer"):
        ws.domain_usage(99)
    with pytest.raises(moescope.Error, match="unknown statistic"):
        ws.domain_usage(0, "median")
    with pytest.raises(moescope.Error, match="no document with id"):
        ws.records("nope")
    # A corpus the CLI refuses is refused the same way, and nothing is traced.
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok", "domain": "a"}\n{"domain": "b"}\n')
    with pytest.raises(moescope.Error) as e:
        moescope.trace(moescope.Model(SAMPLES / "emo-sample"), bad, tmp_path / "bad.moescope", progress=False)
    check_same(e, cli, "trace", "--model", SAMPLES / "emo-sample", "--corpus", bad, "--workspace", tmp_path / "bad2.moescope")
    with pytest.raises(moescope.Error, match="has no 'text'"):
        moescope.trace(moescope.Model(SAMPLES / "emo-sample"), [{"domain": "x"}], tmp_path / "l.moescope", progress=False)
    with pytest.raises(moescope.Error, match="keep="):
        subset = ws.select_subset(4)
        moescope.trace(moescope.Model(SAMPLES / "emo-sample", keep=subset), small_corpus, tmp_path / "k.moescope", progress=False)
    assert json.loads(json.dumps(ws.run))["model"]["path"].endswith("emo-sample")


def broken_models(tmp_path):
    """Copies of a tiny fixture model, each broken one way the CLI refuses (docs/BAD_INPUTS.md)."""
    import shutil

    from conftest import FIXTURES

    src = FIXTURES / "emo-shared"
    made = {}

    def copy(name):
        d = tmp_path / name
        shutil.copytree(src, d)
        made[name] = d
        return d

    d = copy("truncated-weights")
    data = (d / "model.safetensors").read_bytes()
    (d / "model.safetensors").write_bytes(data[: len(data) // 2])
    d = copy("no-tokenizer")
    (d / "tokenizer.json").unlink()
    d = copy("config-not-json")
    (d / "config.json").write_text("{ not json")
    d = copy("config-mismatch")
    config = json.loads((d / "config.json").read_text())
    config["intermediate_size"] = config.get("intermediate_size", 8) * 2
    config["moe_intermediate_size"] = config.get("moe_intermediate_size", 8) * 2
    (d / "config.json").write_text(json.dumps(config))
    d = copy("weights-not-safetensors")
    (d / "model.safetensors").write_bytes(b"\x03\x00")
    return made


def test_broken_models_are_refused_as_the_cli_refuses_them(cli, tmp_path):
    for name, path in broken_models(tmp_path).items():
        with pytest.raises(moescope.Error) as e:
            moescope.Model(path).route("the experts")
        check_same(e, cli, "route", "--model", path, "--text", "the experts")


def test_bad_corpora_are_refused_as_the_cli_refuses_them(cli, tmp_path):
    model = moescope.Model(SAMPLES / "emo-sample")
    corpora = {
        "not-json.jsonl": b'{"text": "ok"}\nnot json\n',
        "text-not-string.jsonl": b'{"text": 3, "domain": "a"}\n',
        "not-utf8.jsonl": b'{"text": "caf\xe9", "domain": "a"}\n',
        "empty.jsonl": b"",
    }
    for name, content in corpora.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(moescope.Error) as e:
            moescope.trace(model, path, tmp_path / f"{name}.moescope", progress=False)
        check_same(e, cli, "trace", "--model", SAMPLES / "emo-sample", "--corpus", path, "--workspace", tmp_path / f"{name}.cli.moescope")
    not_a_workspace = tmp_path / "x.moescope"
    not_a_workspace.write_text("hello")
    with pytest.raises(moescope.Error) as e:
        moescope.Workspace(not_a_workspace)
    check_same(e, cli, "analyze", "--workspace", not_a_workspace)
