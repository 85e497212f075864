"""A coder's codes beside the model's, agreement per code, and training records — the
pure part of supervision (no SQL; :mod:`attunement.store.supervision` stores and loads).

A coder's codes on a session are the model's correctable codes (as the review shows them,
:data:`attunement.report.view.MIN_PROBABILITY`) with that coder's latest decisions
applied; an utterance they decided anything on is *reviewed*. Agreement is computed by the
library (:func:`attunement.coding.labels.compare`: Cohen's kappa and F1, which for two
coders is the positive agreement 2a / (2a + b + c)). Training records are the JSONL lines
``attune train`` reads (:mod:`attunement.coding.data`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from attunement.model import Session, default_codebook

#: the code families a clinician can correct (the binary codes ``attune train`` learns)
CORRECTABLE_FAMILIES = ("withdrawal", "confrontation", "client_flag", "resolution", "failure")
#: below this many reviewed utterances a code's agreement is not shown as a number
MIN_AGREEMENT_N = 10


def correctable_codes(role: str) -> list[str]:
    """The codes a coder can mark on a turn of ``role``, in codebook order."""
    return [
        c.id for c in default_codebook().code if c.family in CORRECTABLE_FAMILIES and c.role == role
    ]


# --- a coder's codes ----------------------------------------------------------------


def model_codes(session: Session) -> dict[str, set[str]]:
    """utterance id → the model's correctable codes, as the review shows them."""
    from attunement.report.view import MIN_PROBABILITY

    allowed = {role: set(correctable_codes(role)) for role in ("client", "therapist")}
    return {
        u.id: {a.code for a in u.codes(MIN_PROBABILITY) if a.code in allowed[u.role.value]}
        for u in session.utterances
    }


@dataclass
class Coding:
    """One coder's codes on one analyzed session beside the model's."""

    session_id: int
    session: Session
    model: dict[str, set[str]]
    coder: dict[str, set[str]]
    reviewed: list[str] = field(default_factory=list)  # utterance ids, session order

    def changes(self, utterance_id: str) -> tuple[set[str], set[str]]:
        """(codes the coder added, codes the coder removed) on one turn."""
        m, c = self.model[utterance_id], self.coder[utterance_id]
        return c - m, m - c


def apply_decisions(
    session_id: int, session: Session, decisions: dict[str, dict[str, str]]
) -> Coding:
    model = model_codes(session)
    coder = {uid: set(codes) for uid, codes in model.items()}
    reviewed = []
    for u in session.utterances:
        for code, decision in decisions.get(u.id, {}).items():
            if decision == "present":
                coder[u.id].add(code)
            else:
                coder[u.id].discard(code)
        if decisions.get(u.id):
            reviewed.append(u.id)
    return Coding(session_id, session, model, coder, reviewed)


# --- agreement ----------------------------------------------------------------------


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    label: str
    n: int  # reviewed utterances of the code's role
    coder_count: int
    model_count: int
    both: int
    kappa: float | None  # None: too few utterances, or undefined (one rater constant)
    positive_agreement: float | None  # 2·both / (coder + model); None as above
    enough: bool

    def public(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Agreement:
    sessions: int
    utterances: int
    min_n: int
    codes: list[CodeAgreement]


def agreement(codings: Sequence[Coding], min_n: int = MIN_AGREEMENT_N) -> Agreement:
    """Per code, the coder's codes (as gold) against the model's on reviewed utterances."""
    from attunement.coding.labels import Labels, compare

    gold: list[Labels] = []
    pred: list[Labels] = []
    for c in codings:
        roles = {u.id: u.role.value for u in c.session.utterances}
        for uid in c.reviewed:
            gold.append(Labels(role=roles[uid], codes=set(c.coder[uid])))
            pred.append(Labels(role=roles[uid], codes=set(c.model[uid])))
    cb = default_codebook()
    out: list[CodeAgreement] = []
    report = compare(gold, pred) if gold else {"codes": {}}
    for code, scores in report["codes"].items():
        role = cb.get(code).role
        rows = [i for i, g in enumerate(gold) if g.role == role]
        coder_n = sum(code in (gold[i].codes or ()) for i in rows)
        model_n = sum(code in (pred[i].codes or ()) for i in rows)
        both = sum(code in (gold[i].codes or ()) and code in (pred[i].codes or ()) for i in rows)
        n = int(scores["n"])
        enough = n >= min_n
        # kappa is undefined when both raters gave one and the same answer throughout
        constant = coder_n == model_n and coder_n in (0, n)
        out.append(
            CodeAgreement(
                code=code,
                label=cb.get(code).label,
                n=n,
                coder_count=coder_n,
                model_count=model_n,
                both=both,
                kappa=float(scores["kappa"]) if enough and not constant else None,
                positive_agreement=float(scores["f1"]) if enough and coder_n + model_n else None,
                enough=enough,
            )
        )
    return Agreement(len([c for c in codings if c.reviewed]), len(gold), min_n, out)


# --- training data ------------------------------------------------------------------


def training_records(
    codings: Sequence[Coding], *, annotator: str, all_utterances: bool = False
) -> list[dict[str, Any]]:
    """One ``attune train`` JSONL record per reviewed utterance (or per utterance): the
    text and context from the stored analysis, the coder's codes as labels."""
    from attunement.coding.data import CONTEXT_TURNS

    order = {c: i for i, c in enumerate(default_codebook().ids())}
    out: list[dict[str, Any]] = []
    for c in codings:
        keep = None if all_utterances else set(c.reviewed)
        for u in c.session.utterances:
            if keep is not None and u.id not in keep:
                continue
            context = c.session.context(u, CONTEXT_TURNS)
            out.append(
                {
                    "id": f"session-{c.session_id}:{u.id}",
                    "group": f"session-{c.session_id}",
                    "role": u.role.value,
                    "text": u.text,
                    "context": [{"role": p.role.value, "text": p.text} for p in context],
                    "codes": sorted(c.coder[u.id], key=lambda k: order.get(k, len(order))),
                    "annotator": annotator,
                }
            )
    return out


def to_jsonl(records: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
