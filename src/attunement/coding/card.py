"""The coding model directory: ``model.json`` (the card) + ``heads.npz`` (the weights).

No pickle anywhere: a model is a small JSON document that says what it is (codes, their
kind, the encoder and feature recipe it expects, how and on what it was trained, its
validation scores) plus a compressed numpy archive of plain arrays, loaded with
``allow_pickle=False``. A model directory can therefore be shared between labs and
inspected by hand, and loading one never executes code.

Heads come in three kinds:

* ``multilabel`` — one binary logistic head per code (several may apply to one utterance).
  Calibrated heads (the default since corpus v2) carry Platt-scaled probabilities and a
  per-code cut in ``decision`` (picked on validation, favouring precision); in older models
  the cut is folded into each bias and ``probability >= 0.5`` means "code applies".
* ``multiclass`` — one softmax head, exactly one label per utterance (behaviour).
* ``graded`` — one softmax head over levels (``none``/``weak``/``strong``) for one code
  (empathy mechanisms).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attunement.errors import ModelError
from attunement.safeparse import ParseProblem, parse_json

FORMAT = "attunement.coding-model/1"
CARD_FILE = "model.json"
WEIGHTS_FILE = "heads.npz"

HeadKind = Literal["multilabel", "multiclass", "graded"]
RoleName = Literal["client", "therapist"]
Array = npt.NDArray[np.float32]


class EncoderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    load: str = Field(description="Name passed to load_encoder: 'static', 'minilm' or a folder.")
    name: str = Field(description="The encoder's own name, e.g. 'static:minilm-static-256'.")
    dim: int = Field(gt=0)


class TfidfSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_features: int = Field(gt=0)
    ngram_max: int = Field(ge=1, le=3)
    min_df: int = Field(ge=1)


ContextName = Literal["prev", "prev_other"]


def _default_context() -> list[ContextName]:
    return ["prev"]


class FeatureRecipe(BaseModel):
    """How the feature vector of one utterance is assembled (order matters)."""

    model_config = ConfigDict(extra="forbid")

    utterance: bool = True
    #: embeddings of context turns: 'prev' (previous utterance, any role) and
    #: 'prev_other' (most recent utterance by the other role)
    context: list[ContextName] = Field(default_factory=_default_context)
    lexical: bool = True
    tfidf: TfidfSpec | None = None


class HeadSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    kind: HeadKind
    role: RoleName
    labels: list[str] = Field(min_length=1, description="Codes (multilabel) or classes.")
    code: str | None = Field(None, description="For graded heads: the code the levels rate.")
    thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="Validation thresholds: folded in b (older models) or, for calibrated "
        "heads, the cut in `decision`.",
    )
    decision: dict[str, float] = Field(
        default_factory=dict,
        description="Calibrated heads: probability cut per code at which the code is given "
        "(picked on validation for precision). Empty: 0.5.",
    )
    C: float = Field(1.0, gt=0)
    support: dict[str, int] = Field(default_factory=dict, description="Training positives.")


class ModelCard(BaseModel):
    """Everything needed to use, trust and reproduce a coding model."""

    model_config = ConfigDict(extra="forbid")

    format: str = FORMAT
    name: str
    version: str
    encoders: list[EncoderSpec] = Field(min_length=1)
    features: FeatureRecipe
    input_dim: int = Field(gt=0)
    heads: list[HeadSpec] = Field(min_length=1)
    seed: int = 0
    training: dict[str, Any] = Field(
        default_factory=dict, description="Data hash, counts, split rule, command."
    )
    validation: dict[str, Any] = Field(default_factory=dict, description="Validation metrics.")
    skipped: dict[str, str] = Field(default_factory=dict, description="Code → why not trained.")
    created_by: str = ""

    def head(self, name: str) -> HeadSpec:
        for h in self.heads:
            if h.name == name:
                return h
        raise KeyError(name)

    def codes(self) -> list[str]:
        """Every code id this model can write (multilabel codes, graded codes, classes)."""
        out: list[str] = []
        for h in self.heads:
            out.extend([h.code] if h.kind == "graded" and h.code else h.labels)
        return out


class CodingModel:
    """A loaded model: card + weight arrays (``W_<head>`` (d, k), ``b_<head>`` (k,))."""

    def __init__(self, card: ModelCard, arrays: dict[str, Array]) -> None:
        self.card = card
        self.arrays = arrays
        _check(card, arrays, "model")

    def weights(self, head: str) -> tuple[Array, Array]:
        return self.arrays[f"W_{head}"], self.arrays[f"b_{head}"]


def _check(card: ModelCard, arrays: dict[str, Array], where: str) -> None:
    if card.format != FORMAT:
        raise ModelError(
            f"unsupported model format {card.format!r} (expected {FORMAT})", where=where
        )
    for key in ("mean", "scale"):
        if key not in arrays:
            raise ModelError(f"weights file lacks array {key!r}", where=where)
    dense = arrays["mean"].shape[0]
    tfidf = 0
    if card.features.tfidf is not None:
        if "tfidf_vocab" not in arrays or "tfidf_idf" not in arrays:
            raise ModelError("card declares tf-idf features but weights lack them", where=where)
        tfidf = int(arrays["tfidf_idf"].shape[0])
    if dense + tfidf != card.input_dim:
        raise ModelError(
            f"input_dim {card.input_dim} does not match weights ({dense}+{tfidf})", where=where
        )
    for h in card.heads:
        for key in (f"W_{h.name}", f"b_{h.name}"):
            if key not in arrays:
                raise ModelError(f"weights file lacks array {key!r}", where=where)
        w, b = arrays[f"W_{h.name}"], arrays[f"b_{h.name}"]
        width = 3 if h.kind == "graded" else len(h.labels)
        if w.shape != (card.input_dim, width) or b.shape != (width,):
            raise ModelError(f"head {h.name!r} has weights of shape {w.shape}", where=where)
        if h.kind == "graded" and (h.code is None or len(h.labels) != 3):
            raise ModelError(f"graded head {h.name!r} needs a code and 3 levels", where=where)


def save_model(model: CodingModel, out: Path) -> Path:
    """Write the model directory atomically (a temp dir beside it, then rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(tmp, 0o755)
    try:
        (tmp / CARD_FILE).write_text(model.card.model_dump_json(indent=2) + "\n", encoding="utf-8")
        with open(tmp / WEIGHTS_FILE, "wb") as fh:
            np.savez_compressed(fh, **model.arrays)  # type: ignore[arg-type]
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                _rmtree(old)
            os.replace(out, old)
            os.replace(tmp, out)
            _rmtree(old)
        else:
            os.replace(tmp, out)
    except BaseException:
        _rmtree(tmp)
        raise
    return out


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def load_model(path: Path) -> CodingModel:
    """Load and validate a model directory; any problem raises :class:`ModelError`."""
    path = Path(path)
    card_path, weights_path = path / CARD_FILE, path / WEIGHTS_FILE
    if not card_path.is_file() or not weights_path.is_file():
        raise ModelError(
            f"not a coding model directory (needs {CARD_FILE} and {WEIGHTS_FILE})", where=str(path)
        )
    try:
        raw = parse_json(card_path.read_bytes())  # huge numbers, deep nesting: ModelError
        card = ModelCard.model_validate(raw)
    except ParseProblem as exc:
        raise ModelError(
            f"model card is not valid JSON ({exc.describe()})", where=str(card_path)
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ModelError(
            f"model card invalid at {loc}: {first['msg']}", where=str(card_path)
        ) from None
    try:
        with np.load(weights_path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"weights file unreadable ({exc.__class__.__name__})", where=str(weights_path)
        ) from None
    _check(card, arrays, str(path))
    return CodingModel(card, arrays)


def fast_model_dir() -> Path:
    """The bundled fast model (static encoder): the speed path, ``attune analyze --fast``."""
    return default_model_dir().parent / "fast"


def default_model_dir() -> Path:
    """The bundled model shipped inside the package."""
    from importlib import resources

    return Path(str(resources.files("attunement.coding").joinpath("models/default")))
