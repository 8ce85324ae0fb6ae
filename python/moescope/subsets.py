"""Subset (a chosen set of experts per layer, the file `subset select` writes) and the exports."""

import json
import os
import tempfile

from . import _cli


class Subset:
    """Experts kept per MoE layer, with the model it was chosen for: the JSON of `subset select`.

    data: the file's content as a dict; experts: per layer (all layers, dense ones None) the kept
    standard expert ids; path: where it is saved (None until save()). Passed as keep= to Model or
    to export_pruned.
    """

    def __init__(self, data, path=None):
        self.data = data
        self.path = os.fspath(path) if path is not None else None

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f), path)

    @property
    def experts(self):
        return self.data["experts_kept_per_layer"]

    def __repr__(self):
        what = self.data.get("domain") or "all domains"
        k = self.data.get("standard_experts_per_layer")
        return f"moescope.Subset({what}, {self.data.get('method')}, {k} standard experts per layer)"

    def save(self, path):
        """Writes the subset file (a temporary file, then renamed: never half written)."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".subset-", suffix=".json", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.data, f, indent=2)
                f.write("\n")
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.path = path
        return path

    def _file(self, holder):
        """A file holding the subset: its own, else a temporary one kept alive in `holder`."""
        if self.path is not None:
            return self.path
        tmp = tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8", delete=False)
        json.dump(self.data, tmp)
        tmp.close()
        holder.append(_TempFile(tmp.name))
        return tmp.name


class _TempFile:
    def __init__(self, path):
        self.path = path

    def __del__(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


def export_pruned(model_path, subset, out_dir):
    """A pruned checkpoint as EMO writes it (`subset export`): returns the CLI's JSON summary."""
    from .model import _subset_path

    temp = []
    keep = _subset_path(subset, temp)
    return _cli.run_json("subset", ["export"] + _cli.options(model=model_path, keep=keep, out=out_dir))


def export_emo(model_path, corpus, out_dir, max_tokens_per_doc=None, threads=None):
    """The files EMO's clustering pipeline reads (`export-emo`): returns the CLI's JSON summary."""
    return _cli.run_json(
        "export-emo",
        _cli.options(model=model_path, corpus=corpus, out=out_dir, max_tokens_per_doc=max_tokens_per_doc,
                     threads=threads),
    )
