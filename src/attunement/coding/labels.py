"""Per-utterance labels, decoding model probabilities, and comparing two codings.

Gold and predictions are reduced to the same per-utterance :class:`Labels` (binary codes,
empathy levels, behaviour), whatever they came from: a coded corpus file, a session JSON
with human annotations (``source == "human"``), or a model's probabilities. Pure functions:
no model loading, no files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from attunement.coding.card import HeadSpec
from attunement.coding.data import LEVELS, Example
from attunement.coding.metrics import binary_scores, multiclass_scores
from attunement.errors import SchemaError
from attunement.model import Annotation, Session, default_codebook


@dataclass
class Labels:
    role: str
    codes: set[str] | None = None  # None: binary codes not coded on this utterance
    empathy: dict[str, str] = field(default_factory=dict)
    behaviour: str | None = None


def decode(heads: Sequence[HeadSpec], probs: dict[str, np.ndarray], i: int, role: str) -> Labels:
    """Model probabilities of row ``i`` → labels (same rules as the analyzer)."""
    out = Labels(role=role, codes=set())
    for h in heads:
        if h.role != role:
            continue
        row = probs[h.name][i]
        if h.kind == "multilabel":
            assert out.codes is not None
            out.codes.update(
                c for c, p in zip(h.labels, row, strict=True) if p >= h.decision.get(c, 0.5)
            )
        elif h.kind == "graded":
            out.empathy[h.code or h.name] = LEVELS[int(np.argmax(row))]
        else:
            out.behaviour = h.labels[int(np.argmax(row))]
    return out


def gold_from_examples(examples: Sequence[Example]) -> list[Labels]:
    return [
        Labels(role=e.item.role, codes=e.codes, empathy=dict(e.empathy), behaviour=e.behaviour)
        for e in examples
    ]


def labels_from_session(
    session: Session, human: bool, min_probability: float = 0.5, where: str | None = None
) -> list[Labels]:
    """Human (``human=True``) or machine annotations of each utterance as labels.

    An empathy annotation whose level is not one of :data:`LEVELS` raises
    :class:`SchemaError` naming ``where`` (the file) and the utterance number."""
    cb = default_codebook()
    empathy, behaviours = set(cb.ids("empathy")), set(cb.ids("behaviour"))
    out: list[Labels] = []
    for n, u in enumerate(session.utterances, start=1):
        anns: list[Annotation] = [
            a
            for a in u.annotations
            if (a.source == "human") == human and a.probability >= min_probability
        ]
        lab = Labels(role=u.role.value, codes=set())
        for a in anns:
            if a.code in empathy:
                if a.level is not None and a.level not in LEVELS:
                    raise SchemaError(
                        f"utterance {n}: the level of {a.code} must be none, weak or strong",
                        where=where,
                    )
                lab.empathy[a.code] = a.level or "weak"
            elif a.code in behaviours:
                lab.behaviour = a.code
            else:
                assert lab.codes is not None
                lab.codes.add(a.code)
        out.append(lab)
    return out


def fill_empathy_none(labels: list[Labels], codes: set[str]) -> None:
    """On therapist turns, an empathy code without annotation means level 'none'."""
    for lab in labels:
        if lab.role == "therapist":
            for c in codes:
                lab.empathy.setdefault(c, "none")


def compare(gold: Sequence[Labels], pred: Sequence[Labels]) -> dict[str, Any]:
    """Per-code P/R/F1/kappa, macro-F1, and confusion matrices for graded/multiclass tasks."""
    if len(gold) != len(pred):
        raise SchemaError(f"gold has {len(gold)} utterances, predictions {len(pred)}")
    cb = default_codebook()
    order = {c: i for i, c in enumerate(cb.ids())}
    roles: dict[str, str] = {}
    for g in gold:
        for c in g.codes or ():
            roles.setdefault(c, g.role)
    for lab in pred:
        for c in lab.codes or ():
            roles.setdefault(c, lab.role)
    for c in roles:
        if c in order:
            roles[c] = cb.get(c).role
    report: dict[str, Any] = {"n": len(gold), "codes": {}, "empathy": {}}
    for code in sorted(roles, key=lambda c: (order.get(c, 10_000), c)):
        rows = [i for i, g in enumerate(gold) if g.codes is not None and g.role == roles[code]]
        if not rows:
            continue
        yb = [code in (gold[i].codes or ()) for i in rows]
        pb = [code in (pred[i].codes or ()) for i in rows]
        report["codes"][code] = binary_scores(yb, pb)
    if report["codes"]:
        report["codes_macro_f1"] = float(np.mean([s["f1"] for s in report["codes"].values()]))
    emp_codes = sorted({c for g in gold for c in g.empathy}, key=lambda c: order.get(c, 10_000))
    for code in emp_codes:
        rows = [i for i, g in enumerate(gold) if code in g.empathy]
        y = [LEVELS.index(gold[i].empathy[code]) for i in rows]
        p = [LEVELS.index(pred[i].empathy.get(code, "none")) for i in rows]
        report["empathy"][code] = multiclass_scores(y, p, list(LEVELS))
    rows = [i for i, g in enumerate(gold) if g.behaviour is not None]
    if rows:
        classes = list(cb.ids("behaviour"))
        extra = sorted({gold[i].behaviour or "" for i in rows} - set(classes))
        classes += extra
        y = [classes.index(gold[i].behaviour or "") for i in rows]
        p = [classes.index(_known(pred[i].behaviour, classes)) for i in rows]
        report["behaviour"] = multiclass_scores(y, p, classes)
    return report


def _known(label: str | None, classes: list[str]) -> str:
    return label if label is not None and label in classes else "other"
