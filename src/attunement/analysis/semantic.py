"""Semantic responsiveness: how close in meaning each therapist reply is to the client turn
it answers.

A reply that stays with what the client said (whatever the words) sits close to it in
sentence-embedding space; a change of subject sits far away. The cosine between the two
sentence vectors is a coarse proxy: a good reflection scores high, but so does a parrot,
and a well-timed silence-breaking question can score low. Use the trend and the lowest
exchanges as places to look, not as a verdict.

All utterances are encoded in one batch (the encoder memoizes, so the coding analyzer
reuses the vectors).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attunement.analysis.base import Analyzer, PipelineContext
from attunement.coding.encoders import Encoder
from attunement.model import Session

LOWEST = 5


def _r(x: float) -> float:
    return round(float(x), 4)


class SemanticResponsiveness(Analyzer):
    """Cosine between each therapist reply and the client turn before it."""

    name = "semantic_responsiveness"
    version = "1"
    needs_encoder = True

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    @classmethod
    def from_context(cls, ctx: PipelineContext) -> SemanticResponsiveness:
        return cls(ctx.encoder)

    def __call__(self, session: Session) -> Session:
        self.clear(session)
        utts = session.utterances
        for u in utts:
            u.features.pop(self.name, None)
        pos = {u.id: i for i, u in enumerate(utts)}
        pairs = [(pos[c.id], pos[t.id]) for c, t in session.exchanges()]
        metrics: dict[str, Any] = {"encoder": self.encoder.name, "n": len(pairs)}
        if not pairs:
            metrics.update(mean=None, median=None, lowest=[], by_third=[None, None, None])
            metrics["headline"] = {"Exchanges": 0, "Reply–client similarity (mean)": "n/a"}
            session.metrics[self.name] = metrics
            session.mark_applied(self.name, self.version)
            return session
        # every utterance, not only the paired ones: the memo then serves the coding heads
        vectors = self.encoder.encode([u.text for u in utts])
        ci = np.array([c for c, _ in pairs])
        ti = np.array([t for _, t in pairs])
        cos = np.einsum("ij,ij->i", vectors[ci], vectors[ti]).astype(np.float64)
        for (_, t), v in zip(pairs, cos, strict=True):
            utts[t].features[self.name] = _r(v)
        order = np.argsort(cos, kind="stable")[:LOWEST]
        lowest = [
            {"client": utts[pairs[k][0]].id, "reply": utts[pairs[k][1]].id, "cosine": _r(cos[k])}
            for k in order
        ]
        n = len(utts)
        third = np.minimum(2, (np.array([t for _, t in pairs]) * 3) // max(n, 1))
        by_third = [_r(cos[third == k].mean()) if (third == k).any() else None for k in range(3)]
        metrics.update(
            mean=_r(cos.mean()), median=_r(np.median(cos)), lowest=lowest, by_third=by_third
        )
        trend = (
            _r(by_third[2] - by_third[0])
            if by_third[0] is not None and by_third[2] is not None
            else None
        )
        metrics["trend_last_minus_first"] = trend
        metrics["headline"] = {
            "Exchanges": len(pairs),
            "Reply–client similarity (mean)": metrics["mean"],
            "Reply–client similarity (median)": metrics["median"],
            "Change, first→last third": "n/a" if trend is None else trend,
        }
        session.metrics[self.name] = metrics
        session.mark_applied(self.name, self.version)
        return session
