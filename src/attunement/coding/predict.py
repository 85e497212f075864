"""Inference in pure numpy: features → standardized vector → linear heads.

No sklearn import here: the analyze path only needs a matrix product and a sigmoid or
softmax per head, so coding a 600-utterance session costs little more than encoding it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from attunement.coding.card import CodingModel, HeadSpec
from attunement.coding.encoders import Encoder
from attunement.coding.features import Item, dense_features, tfidf_transform
from attunement.errors import ModelError

Array = npt.NDArray[np.float32]
log = logging.getLogger(__name__)


def sigmoid(z: Array) -> Array:
    out: Array = (1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))).astype(np.float32)
    return out


def softmax(z: Array) -> Array:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Array = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def head_probs(head: HeadSpec, w: Array, b: Array, x: Array) -> Array:
    """(n, k) probabilities: independent sigmoids (multilabel) or a softmax (others)."""
    z = x @ w + b
    return sigmoid(z) if head.kind == "multilabel" else softmax(z)


def assemble(
    dense: Array, texts: Sequence[str], model_arrays: dict[str, Array], ngram_max: int | None
) -> Array:
    """Standardize the dense block and append tf-idf columns when the model has them."""
    x = (dense - model_arrays["mean"]) / model_arrays["scale"]
    if ngram_max is not None:
        vocab = model_arrays["tfidf_vocab"]
        tf = tfidf_transform(texts, vocab, model_arrays["tfidf_idf"], ngram_max)  # type: ignore[arg-type]
        x = np.hstack([x, tf])
    out: Array = x.astype(np.float32, copy=False)
    return out


class Predictor:
    """A model bound to the encoders it was trained with."""

    def __init__(self, model: CodingModel, encoders: Sequence[Encoder]) -> None:
        specs = model.card.encoders
        if len(specs) != len(encoders):
            raise ModelError(f"model needs {len(specs)} encoder(s), got {len(encoders)}")
        for spec, enc in zip(specs, encoders, strict=True):
            if spec.dim != enc.dim:
                raise ModelError(
                    f"model {model.card.name!r} expects encoder {spec.load!r} of dimension "
                    f"{spec.dim}, got {enc.name!r} of dimension {enc.dim}"
                )
            if spec.name != enc.name:
                log.warning("model expects encoder %r but got %r", spec.name, enc.name)
        self.model = model
        self.encoders = list(encoders)

    @property
    def heads(self) -> list[HeadSpec]:
        return self.model.card.heads

    @property
    def info(self) -> dict[str, Any]:
        card = self.model.card
        return {
            "name": card.name,
            "version": card.version,
            "encoders": [e.load for e in card.encoders],
        }

    def codes(self) -> list[str]:
        return self.model.card.codes()

    def features(self, items: Sequence[Item]) -> Array:
        card = self.model.card
        dense = dense_features(items, self.encoders, card.features)
        if dense.shape[1] != self.model.arrays["mean"].shape[0]:
            raise ModelError(
                f"feature width {dense.shape[1]} does not match model {card.name!r} "
                f"({self.model.arrays['mean'].shape[0]})"
            )
        tf = card.features.tfidf
        return assemble(
            dense, [it.text for it in items], self.model.arrays, tf.ngram_max if tf else None
        )

    def predict(self, items: Sequence[Item]) -> dict[str, Array]:
        """Head name → (n, k) probabilities for every item (callers mask by role)."""
        if not items:
            return {
                h.name: np.zeros((0, 3 if h.kind == "graded" else len(h.labels)), np.float32)
                for h in self.model.card.heads
            }
        x = self.features(items)
        return {
            h.name: head_probs(h, *self.model.weights(h.name), x) for h in self.model.card.heads
        }
