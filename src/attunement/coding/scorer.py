"""The one seam between a coding model and its users: :class:`HeadScorer` and :func:`load_scorer`.

A scorer knows its heads (codes, kinds, decision cuts) and returns per-head probabilities
for a batch of :class:`~attunement.coding.features.Item`. Two kinds implement it: a
linear-head model bound to its encoders (:class:`~attunement.coding.predict.Predictor`)
and a fine-tuned transformer (:class:`~attunement.coding.finetune_apply.FinetunedPredictor`).
The session analyzer, ``attune evaluate``, the model builder and the benchmarks all load
models through :func:`load_scorer`, so a model folder works the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from attunement.coding.card import HeadSpec, default_model_dir, load_model
from attunement.coding.data import CONTEXT_TURNS, Example
from attunement.coding.encoders import Encoder, load_encoder
from attunement.coding.features import Item
from attunement.coding.labels import Labels, decode
from attunement.coding.predict import Predictor
from attunement.model import Session


class HeadScorer(Protocol):
    """What every user of a coding model needs of it."""

    @property
    def heads(self) -> list[HeadSpec]: ...

    @property
    def info(self) -> dict[str, Any]: ...

    def codes(self) -> list[str]: ...

    def predict(self, items: Sequence[Item]) -> dict[str, npt.NDArray[np.float32]]: ...


def load_scorer(
    path: Path | None = None,
    *,
    encoder: str | None = None,
    loaded: Mapping[str, Encoder] | None = None,
) -> HeadScorer:
    """The model in ``path`` (default: the bundled model) ready to score.

    ``encoder`` overrides the encoder the card names (same dimension required);
    ``loaded`` maps encoder names to encoders already in memory, which are reused.
    """
    from attunement.coding.finetune_apply import FinetunedPredictor, is_finetuned_dir

    if path is not None and is_finetuned_dir(path):
        return FinetunedPredictor.load(Path(path))
    model = load_model(Path(path) if path else default_model_dir())
    encs: list[Encoder] = []
    for spec in model.card.encoders:
        name = encoder or spec.load
        have = (loaded or {}).get(name)
        encs.append(have if have is not None else load_encoder(name))
    return Predictor(model, encs)


def session_items(session: Session, turns: int = CONTEXT_TURNS) -> list[Item]:
    """One :class:`Item` per utterance with the ``turns`` preceding turns as context."""
    return [
        Item(
            role=u.role.value,
            text=u.text,
            context=[(c.role.value, c.text) for c in session.context(u, turns)],
        )
        for u in session.utterances
    ]


def predict_examples(scorer: HeadScorer, examples: Sequence[Example]) -> list[Labels]:
    """Code ``examples`` with a scorer; labels in the same order."""
    probs = scorer.predict([e.item for e in examples])
    return [decode(scorer.heads, probs, i, e.item.role) for i, e in enumerate(examples)]
