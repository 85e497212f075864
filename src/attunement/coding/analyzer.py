"""The ``coding`` analyzer: learned codes on every utterance of a session.

It codes client utterances for rupture markers and flags, therapist utterances for the
three empathy mechanisms (graded), one counselling behaviour, repair strategies and
empathic failures — whatever heads the loaded model carries, including a lab's own codes
from a model trained with ``attune train``. Each utterance is coded from its text and the
turns before it; the whole session is encoded and scored in one batch.

The model is a linear-head folder (``model.json``) or a fine-tuned MiniLM folder
(``finetune.json``, from ``attune train --finetune``); both are seen as the same heads
(:mod:`attunement.coding.finetune_apply`) and written with the same rules.

Importing this module is cheap (numpy and pydantic only); the model and encoder load in
:meth:`CodingAnalyzer.from_context` (torch only for a fine-tuned model).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from attunement.analysis.base import Analyzer, PipelineContext
from attunement.coding.card import CodingModel, HeadSpec, default_model_dir, load_model
from attunement.coding.encoders import Encoder, load_encoder
from attunement.coding.features import Item
from attunement.coding.predict import Predictor
from attunement.model import Annotation, Session, default_codebook

if TYPE_CHECKING:
    from attunement.coding.finetune_apply import FinetunedPredictor

CONTEXT_TURNS = 3


class HeadScorer(Protocol):
    """What the analyzer needs of a model: its heads and their probabilities per item."""

    @property
    def heads(self) -> list[HeadSpec]: ...

    def predict(self, items: Sequence[Item]) -> dict[str, npt.NDArray[np.float32]]: ...


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


class CodingAnalyzer(Analyzer):
    """Applies a coding model (bundled default or ``ctx.model_dir``) to a session.

    ``model`` is a linear-head :class:`CodingModel` (with the encoders it needs) or a
    :class:`~attunement.coding.finetune_apply.FinetunedPredictor` (no encoders).
    """

    name = "coding"
    version = "1"
    needs_encoder = True

    def __init__(
        self, model: CodingModel | FinetunedPredictor, encoders: Sequence[Encoder] = ()
    ) -> None:
        self.model = model
        self.encoders = list(encoders)
        self._predictor: HeadScorer
        if isinstance(model, CodingModel):
            self._predictor = Predictor(model, self.encoders)
            self._info: dict[str, Any] = {"name": model.card.name, "version": model.card.version}
            self._codes = model.card.codes()
        else:
            self._predictor = model
            self._info = dict(model.info)
            self._codes = model.codes()

    @classmethod
    def from_context(cls, ctx: PipelineContext) -> CodingAnalyzer:
        from attunement.coding.finetune_apply import is_finetuned_dir

        if is_finetuned_dir(ctx.model_dir):
            from attunement.coding.finetune_apply import FinetunedPredictor

            assert ctx.model_dir is not None
            return cls(FinetunedPredictor.load(ctx.model_dir))
        model = load_model(ctx.model_dir or default_model_dir())
        encoders = [
            ctx.encoder if spec.load == ctx.encoder_name else load_encoder(spec.load)
            for spec in model.card.encoders
        ]
        return cls(model, encoders)

    def __call__(self, session: Session) -> Session:
        self.clear(session)
        for u in session.utterances:
            for key in [k for k in u.features if k.startswith("p_E_")]:
                del u.features[key]
        probs = self._predictor.predict(session_items(session))
        tag = self.tag
        for head in self._predictor.heads:
            p = probs[head.name]
            for i, u in enumerate(session.utterances):
                if u.role.value != head.role:
                    continue
                row = p[i]
                if head.kind == "multilabel":
                    for j, code in enumerate(head.labels):
                        if row[j] >= 0.5:
                            u.annotations.append(
                                Annotation(code=code, probability=_prob(row[j]), source=tag)
                            )
                elif head.kind == "graded":
                    code = head.code or head.name
                    u.features[f"p_{code}_weak"] = float(row[1])
                    u.features[f"p_{code}_strong"] = float(row[2])
                    best = int(np.argmax(row))
                    if best > 0:
                        u.annotations.append(
                            Annotation(
                                code=code,
                                probability=_prob(row[1] + row[2]),
                                level=head.labels[best],
                                source=tag,
                            )
                        )
                else:
                    best = int(np.argmax(row))
                    u.annotations.append(
                        Annotation(code=head.labels[best], probability=_prob(row[best]), source=tag)
                    )
        session.metrics[self.name] = self._summary(session)
        session.mark_applied(self.name, self.version)
        return session

    def _summary(self, session: Session) -> dict[str, Any]:
        cb = default_codebook()
        markers = set(cb.ids("withdrawal", "confrontation"))
        failures = set(cb.ids("failure"))
        empathy = set(cb.ids("empathy"))
        counts: Counter[str] = Counter()
        levels: dict[str, Counter[str]] = {}
        empathic_turns = marker_turns = 0
        tag = self.tag
        for u in session.utterances:
            mine = [a for a in u.annotations if a.source == tag]
            counts.update(a.code for a in mine)
            for a in mine:
                if a.code in empathy and a.level:
                    levels.setdefault(a.code, Counter())[a.level] += 1
            if u.is_therapist and any(a.code in empathy for a in mine):
                empathic_turns += 1
            if u.is_client and any(a.code in markers for a in mine):
                marker_turns += 1
        therapist_turns = sum(1 for u in session.utterances if u.is_therapist)
        refl = counts["reflection_simple"] + counts["reflection_complex"]
        ques = counts["question_open"] + counts["question_closed"]
        has = set(self._codes)
        headline: dict[str, Any] = {}
        if has & markers:
            headline["Rupture markers"] = sum(counts[c] for c in markers)
        if "TERMINATION_RISK" in has:
            headline["Termination talk"] = counts["TERMINATION_RISK"]
        if has & empathy:
            headline["Empathic responses %"] = (
                round(100.0 * empathic_turns / therapist_turns, 1) if therapist_turns else 0.0
            )
        if has & failures:
            headline["Empathic failures"] = sum(counts[c] for c in failures)
        if "question_open" in has or "reflection_simple" in has:
            headline["Reflections per question"] = round(refl / ques, 2) if ques else "–"
        if not headline:
            headline["Coded utterances"] = sum(
                1 for u in session.utterances if any(a.source == tag for a in u.annotations)
            )
        return {
            "headline": dict(list(headline.items())[:5]),
            "model": dict(self._info),
            "counts": dict(sorted(counts.items())),
            "client_turns_with_markers": marker_turns,
            "empathy_levels": {k: dict(v) for k, v in sorted(levels.items())},
        }


def _prob(x: float | np.floating[Any]) -> float:
    return float(min(1.0, max(0.0, float(x))))
