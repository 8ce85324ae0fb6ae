"""Model, Routing and Encoding: one checkpoint, one text's router decisions as numpy arrays.

Shapes: T tokens, K experts per token, E experts (Es standard, the rest shared), Lm MoE layers.
"""

import dataclasses
import os
from functools import cached_property
from typing import List, Optional, Union

import numpy as np

from . import _cli, _moescope


@dataclasses.dataclass
class Encoding:
    """A tokenized text: ids [T] int32, the vocabulary strings, byte offsets [T, 2] into the UTF-8 text."""

    ids: np.ndarray
    tokens: List[str]
    offsets: np.ndarray


def _stack(arrays):
    """[Lm, ...] as one array when every layer has the same shape, else the list of per-layer arrays
    (a pruned checkpoint may keep a different number of experts per layer)."""
    if arrays is None:
        return None
    if len({a.shape for a in arrays}) <= 1 and arrays:
        return np.stack(arrays)
    return list(arrays)


@dataclasses.dataclass
class Routing:
    """The router decisions for one text (or one traced document), the numbers of `route --json`.

    ids [T] int32; tokens (vocabulary strings; for a workspace record, the text of each token);
    offsets [T, 2] byte offsets; nll [T] float32, -log p(next token), NaN where no next token is
    predicted (the last token of the text and of each window of the context); layers: the MoE
    layers' indices; topk_ids [Lm, T, K] int32; topk_weights [Lm, T, K] float32; probs [Lm, T, Es]
    and router_logits [Lm, T, E] when asked for (else None); doc_mean_probs and doc_topk_freq
    [Lm, Es]: the mean routing probability and the share of tokens selecting each expert.
    windows [W, 2]: the token ranges routed as separate documents (the model's context).
    Per-layer fields are lists of arrays instead when layers differ in K or E.
    """

    ids: np.ndarray
    tokens: List[str]
    offsets: np.ndarray
    nll: np.ndarray
    layers: List[int]
    topk_ids: Union[np.ndarray, list]
    topk_weights: Union[np.ndarray, list]
    doc_mean_probs: Union[np.ndarray, list]
    doc_topk_freq: Union[np.ndarray, list]
    probs: Optional[Union[np.ndarray, list]] = None
    router_logits: Optional[Union[np.ndarray, list]] = None
    windows: Optional[np.ndarray] = None

    @classmethod
    def _from_record(cls, r, tokens):
        return cls(
            ids=r["ids"],
            tokens=tokens,
            offsets=r["offsets"],
            nll=r["nll"],
            layers=list(r["layers"]),
            topk_ids=_stack(r["topk_ids"]),
            topk_weights=_stack(r["topk_weights"]),
            doc_mean_probs=_stack(r["doc_mean_probs"]),
            doc_topk_freq=_stack(r["doc_topk_freq"]),
            probs=_stack(r["probs"]),
            router_logits=_stack(r.get("router_logits")),
            windows=r.get("windows"),
        )


def _subset_path(keep, holder):
    """A subset as a file path the engine reads: a path as given, a Subset saved if it has no file yet."""
    if keep is None:
        return None
    from .subsets import Subset

    if isinstance(keep, Subset):
        return keep._file(holder)
    return os.fspath(keep)


class Model:
    """A Hugging Face MoE checkpoint loaded by moescope's engine, as `moescope-cli --model` loads it.

    keep: a subset file (or Subset) to load only those experts, as `--keep`; precision "f32" or
    "bf16"; threads per forward pass (None: all cores); device "cpu" or "cuda[:N]";
    memory_check=False skips the refusal of a model estimated not to fit in memory.
    The GIL is released while a model loads and routes: several threads may route at once.
    """

    def __init__(self, path, keep=None, precision="f32", threads=None, device="cpu", memory_check=True,
                 force_subset=False):
        self.path = os.fspath(path)
        self._temp = []
        self._keep = _subset_path(keep, self._temp)
        self._force_subset = force_subset
        self._model = _moescope.Model.load(self.path, self._keep, precision, threads, device, memory_check,
                                           force_subset)

    def __repr__(self):
        keep = f", keep={self._keep!r}" if self._keep else ""
        return f"moescope.Model({self.path!r}{keep})"

    @cached_property
    def info(self):
        """The model's description, the dict `moescope-cli info --json` prints."""
        return _cli.run_json("info", _cli.options(model=self.path, keep=self._keep, force_subset=self._force_subset))

    def tokenize(self, text: str) -> Encoding:
        r = self._model.tokenize(text)
        return Encoding(ids=r["ids"], tokens=r["tokens"], offsets=r["offsets"])

    def route(self, text: str, probs: bool = False, router_logits: bool = False) -> Routing:
        """Routes one text (in windows of the model's context when longer) and records every decision."""
        r = self._model.route(text, probs, router_logits)
        return Routing._from_record(r, r["tokens"])

    def score(self, text_or_texts):
        """Mean NLL, perplexity and bits per byte of a text (a dict as `score --json` prints), or of
        each text of a list (a list of dicts)."""
        if isinstance(text_or_texts, str):
            return self._model.score(text_or_texts)
        return [self._model.score(t) for t in text_or_texts]

