"""Comparing model codes with human codes.

Gold and predictions are reduced to the same per-utterance :class:`Labels` (binary codes,
empathy levels, behaviour), whatever they came from: a coded corpus file scored by a
model, or a session JSON with human annotations (``source == "human"``) against a session
JSON coded by the analyzer (matched by utterance id) or coded on the fly by a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from attunement.coding.card import CodingModel, HeadSpec
from attunement.coding.data import LEVELS, Example
from attunement.coding.encoders import Encoder
from attunement.coding.metrics import binary_scores, multiclass_scores
from attunement.coding.predict import Predictor
from attunement.errors import SchemaError
from attunement.model import Annotation, Session, default_codebook

if TYPE_CHECKING:
    from attunement.coding.finetune_apply import FinetunedPredictor


@dataclass
class Labels:
    role: str
    codes: set[str] | None = None  # None: binary codes not coded on this utterance
    empathy: dict[str, str] = field(default_factory=dict)
    behaviour: str | None = None


def decode(
    model: CodingModel | Sequence[HeadSpec], probs: dict[str, np.ndarray], i: int, role: str
) -> Labels:
    """Model probabilities of row ``i`` → labels (same rules as the analyzer)."""
    out = Labels(role=role, codes=set())
    heads = model.card.heads if isinstance(model, CodingModel) else model
    for h in heads:
        if h.role != role:
            continue
        row = probs[h.name][i]
        if h.kind == "multilabel":
            assert out.codes is not None
            out.codes.update(c for c, p in zip(h.labels, row, strict=True) if p >= 0.5)
        elif h.kind == "graded":
            out.empathy[h.code or h.name] = LEVELS[int(np.argmax(row))]
        else:
            out.behaviour = h.labels[int(np.argmax(row))]
    return out


def predict_examples(
    model: CodingModel | FinetunedPredictor,
    encoders: Sequence[Encoder],
    examples: Sequence[Example],
) -> list[Labels]:
    """Code ``examples`` with a linear-head model (and its encoders) or a fine-tuned one."""
    items = [e.item for e in examples]
    if isinstance(model, CodingModel):
        probs = Predictor(model, encoders).predict(items)
        heads = model.card.heads
    else:
        probs, heads = model.predict(items), model.heads
    return [decode(heads, probs, i, e.item.role) for i, e in enumerate(examples)]


def gold_from_examples(examples: Sequence[Example]) -> list[Labels]:
    return [
        Labels(role=e.item.role, codes=e.codes, empathy=dict(e.empathy), behaviour=e.behaviour)
        for e in examples
    ]


def labels_from_session(
    session: Session, human: bool, min_probability: float = 0.5
) -> list[Labels]:
    """Human (``human=True``) or machine annotations of each utterance as labels."""
    cb = default_codebook()
    empathy, behaviours = set(cb.ids("empathy")), set(cb.ids("behaviour"))
    out: list[Labels] = []
    for u in session.utterances:
        anns: list[Annotation] = [
            a
            for a in u.annotations
            if (a.source == "human") == human and a.probability >= min_probability
        ]
        lab = Labels(role=u.role.value, codes=set())
        for a in anns:
            if a.code in empathy:
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


def _read_session(path: Path) -> Session:
    try:
        return Session.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise SchemaError(f"cannot read ({exc.strerror})", where=str(path)) from None
    except ValidationError as exc:
        loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise SchemaError(f"not a valid session JSON (at {loc})", where=str(path)) from None


def evaluate_paths(
    gold: Path, pred: Path | None = None, model_dir: Path | None = None, encoder: str | None = None
) -> dict[str, Any]:
    """What `attune evaluate` runs: gold corpus/CSV/session JSON vs. --pred or --model."""
    from attunement.coding.card import default_model_dir, load_model
    from attunement.coding.data import read_examples
    from attunement.coding.encoders import load_encoder

    if pred is not None and model_dir is not None:
        raise SchemaError("give either --pred or --model, not both")
    gold = Path(gold)
    is_session = gold.suffix.lower() == ".json"
    if pred is not None:
        if not is_session:
            raise SchemaError("--pred needs a session JSON gold file; use --model for corpus files")
        g_session, p_session = _read_session(gold), _read_session(Path(pred))
        by_id = {u.id: u for u in p_session.utterances}
        missing = [u.id for u in g_session.utterances if u.id not in by_id]
        if missing:
            raise SchemaError(f"utterance {missing[0]} missing from predictions", where=str(pred))
        p_session.utterances = [by_id[u.id] for u in g_session.utterances]
        g = labels_from_session(g_session, human=True)
        p = labels_from_session(p_session, human=False)
    else:
        from attunement.coding.finetune_apply import FinetunedPredictor, is_finetuned_dir

        model: CodingModel | FinetunedPredictor
        if is_finetuned_dir(model_dir):
            assert model_dir is not None
            model, encs = FinetunedPredictor.load(Path(model_dir)), []
        else:
            model = load_model(Path(model_dir) if model_dir else default_model_dir())
            encs = [load_encoder(encoder or s.load) for s in model.card.encoders]
        if is_session:
            from attunement.coding.analyzer import CodingAnalyzer

            g_session = _read_session(gold)
            g = labels_from_session(g_session, human=True)
            coded = CodingAnalyzer(model, encs)(g_session.model_copy(deep=True))
            p = labels_from_session(coded, human=False)
        else:
            examples = read_examples(gold)
            g = gold_from_examples(examples)
            p = predict_examples(model, encs, examples)
    if is_session:
        fill_empathy_none(g, {c for lab in g for c in lab.empathy})
    report = compare(g, p)
    report["gold"] = gold.name
    report["pred"] = (
        Path(pred).name if pred else f"model:{Path(model_dir).name if model_dir else 'default'}"
    )
    return report


def _known(label: str | None, classes: list[str]) -> str:
    return label if label is not None and label in classes else "other"
