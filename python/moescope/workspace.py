"""Workspace (a traced corpus, read as pandas tables and numpy arrays) and trace()."""

import os
import sys
import time

import pandas as pd

from . import _cli, _moescope
from .model import Routing
from .subsets import Subset


class Workspace:
    """A workspace written by `trace` (here or by moescope-cli): documents, records, analyses."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._ws = _moescope.Workspace.open(self.path)
        self._table = None  # the documents table records() looks documents up in, read once

    def __repr__(self):
        return f"moescope.Workspace({self.path!r})"

    @property
    def documents(self) -> pd.DataFrame:
        """One row per document: position (in its corpus), id, domain, lang, tokens (-1: not traced yet)."""
        d = self._ws.documents()
        return pd.DataFrame({k: d[k] for k in ("position", "id", "domain", "lang", "tokens")})

    @property
    def domains(self):
        """The traced domains, sorted."""
        return self._ws.domains()

    @property
    def run(self):
        """The model and settings the workspace was traced with."""
        return self._ws.run_info()

    def _doc_id(self, doc):
        # The table is read once; again only when a lookup misses or finds a document not traced
        # yet, which a trace since may have changed (reading it is a query over every document).
        for fresh in (False, True) if self._table is not None else (True,):
            if fresh:
                self._table = self._ws.documents()
            d = self._table
            if isinstance(doc, str):
                row = next((i for i, name in enumerate(d["id"]) if name == doc), None)
            else:
                row = int(doc) if 0 <= int(doc) < len(d["id"]) else None
            if row is not None and d["tokens"][row] >= 0:
                return int(d["doc_id"][row])
        if row is None and isinstance(doc, str):
            raise _moescope.Error(f"{self.path}: no document with id '{doc}'")
        if row is None:
            raise _moescope.Error(f"{self.path}: no document at row {int(doc)} (the workspace has {len(d['id'])})")
        raise _moescope.Error(f"{self.path}: document '{d['id'][row]}' is not traced yet (run trace to finish)")

    def records(self, doc) -> Routing:
        """The stored router decisions of one document (a row of `documents`, or its id) as a Routing;
        tokens are the pieces of the document's text; probs only when traced with probs=True."""
        r = self._ws.record(self._doc_id(doc))
        text = r["text"].encode("utf-8")
        tokens = [text[b:e].decode("utf-8", "replace") for b, e in r["offsets"]]
        return Routing._from_record(r, tokens)

    def domain_usage(self, layer, stat="mean_probs") -> pd.DataFrame:
        """Domain x expert usage in one MoE layer, as `analyze` computes it: stat "mean_probs" (mean
        routing probability) or "topk_freq" (selections per token), token-weighted per domain."""
        u = self._ws.domain_usage(int(layer), stat)
        frame = pd.DataFrame(u["values"], index=pd.Index(u["domains"], name="domain"))
        frame.columns.name = "expert"
        return frame

    def analyze(self, **options) -> dict:
        """`moescope-cli analyze --json` on this workspace; options as the CLI's (pool_mass=0.9,
        keep_k=..., max_groups=..., clusters=32, cluster_features="mean_probs", seed=...)."""
        return _cli.run_json("analyze", _cli.options(workspace=self.path, **options))

    def select_subset(self, k, domain=None, method="global", lang=None, seed=None) -> Subset:
        """The k standard experts per layer a domain (or the whole corpus) routes to most:
        `subset select` (method "global", "greedy", "easy-ep" or "random")."""
        data = _cli.run_json(
            "subset",
            ["select"] + _cli.options(workspace=self.path, experts=k, domain=domain, method=method, lang=lang, seed=seed),
        )
        return Subset(data)

    def ablate(self, eval=None, domain=None, budgets=None, method=None, random_seeds=None, max_tokens_per_doc=None,
               threads=None) -> pd.DataFrame:
        """`subset ablate`: held-out bits per byte per domain, method and budget k (full model,
        the domain's own subset, random subsets), one row per point; the mean over domains
        (% increase over each domain's full model) is in `.attrs["mean"]`."""
        j = _cli.run_json(
            "subset",
            ["ablate"] + _cli.options(workspace=self.path, eval=eval, domain=domain, budgets=budgets, method=method,
                                      random_seeds=random_seeds, max_tokens_per_doc=max_tokens_per_doc,
                                      threads=threads),
        )
        frame = pd.DataFrame(j["points"])
        frame.attrs["eval"] = j.get("eval")
        frame.attrs["mean"] = j.get("mean")
        return frame


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn in place (terminals and notebooks)."""

    def __init__(self, label, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.drawn = False
        self.last = 0.0

    def __call__(self, done, total, tokens, seconds):
        now = time.monotonic()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        frac = done / total if total else 1.0
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        rate = tokens / seconds if seconds > 0 else 0.0
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} documents, {rate:,.0f} tokens/s ")
        self.stream.flush()
        self.drawn = True

    def close(self):
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def trace(model, corpus, workspace, max_tokens_per_doc=None, progress=True, batch_tokens=16384, probs=False) -> dict:
    """Routes a labelled corpus (a JSONL file or domain folder, or a list of dicts with "text" and
    optionally "domain", "lang", "id") into a workspace, as `moescope-cli trace`; returns its summary.

    Resumable: documents already in the workspace are not traced again. Ctrl-C (KeyboardInterrupt),
    or an exception raised by a `progress` callable, stops it after the batch in flight: the
    finished batches are stored and the exception is raised; the next trace() resumes.
    progress: True for a progress bar on stderr, False for none, or a callable
    (documents_done, documents_total, tokens_this_run, seconds_this_run).
    """
    if isinstance(corpus, os.PathLike):
        corpus = os.fspath(corpus)
    bar = _ProgressBar("trace") if progress is True else None
    callback = bar if bar is not None else (progress if callable(progress) else None)
    try:
        return _moescope.trace(model._model, corpus, os.fspath(workspace), int(max_tokens_per_doc or 0),
                               int(batch_tokens), bool(probs), callback)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
            bar = None
        print(f"trace stopped after the batch in flight; the workspace {os.fspath(workspace)} keeps what was "
              "traced: run trace() again to resume", file=sys.stderr)
        raise
    finally:
        if bar is not None:
            bar.close()
