"""`attune evaluate`: compare model codes with human codes (files in, a report out).

Gold is a coded corpus file (JSONL, CSV, session corpus) or a session JSON with human
annotations; predictions come from ``--pred`` (a session JSON coded by the analyzer,
matched by utterance id) or from a model coding the gold on the fly. The comparison itself
is :func:`attunement.coding.labels.compare`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from attunement.coding.labels import (
    compare,
    fill_empathy_none,
    gold_from_examples,
    labels_from_session,
)
from attunement.coding.scorer import load_scorer, predict_examples, session_items
from attunement.errors import SchemaError
from attunement.model import Session
from attunement.safeparse import safe_loc


def _read_session(path: Path) -> Session:
    try:
        return Session.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise SchemaError(f"cannot read ({exc.strerror})", where=str(path)) from None
    except ValidationError as exc:
        loc = safe_loc(exc.errors()[0]["loc"], Session)  # input keys are not echoed
        raise SchemaError(f"not a valid session JSON (at {loc})", where=str(path)) from None


def evaluate_paths(
    gold: Path, pred: Path | None = None, model_dir: Path | None = None, encoder: str | None = None
) -> dict[str, Any]:
    """What `attune evaluate` runs: gold corpus/CSV/session JSON vs. --pred or --model."""
    from attunement.coding.data import read_examples

    if pred is not None and model_dir is not None:
        raise SchemaError("give either --pred or --model, not both")
    gold = Path(gold)
    is_session = gold.suffix.lower() == ".json"
    if pred is not None:
        if not is_session:
            raise SchemaError("--pred needs a session JSON gold file; use --model for corpus files")
        g_session, p_session = _read_session(gold), _read_session(Path(pred))
        by_id = {u.id: u for u in p_session.utterances}
        missing = [n for n, u in enumerate(g_session.utterances, 1) if u.id not in by_id]
        if missing:  # the number, not the id: an id is whatever the file holds
            raise SchemaError(
                f"utterance {missing[0]} of the gold file has no match (by id) in the predictions",
                where=Path(pred).name,
            )
        p_session.utterances = [by_id[u.id] for u in g_session.utterances]
        g = labels_from_session(g_session, human=True, where=gold.name)
        p = labels_from_session(p_session, human=False, where=Path(pred).name)
    else:
        scorer = load_scorer(Path(model_dir) if model_dir else None, encoder=encoder)
        if is_session:
            from attunement.coding.labels import decode

            g_session = _read_session(gold)
            g = labels_from_session(g_session, human=True, where=gold.name)
            probs = scorer.predict(session_items(g_session))
            p = [
                decode(scorer.heads, probs, i, u.role.value)
                for i, u in enumerate(g_session.utterances)
            ]
        else:
            examples = read_examples(gold)
            g = gold_from_examples(examples)
            p = predict_examples(scorer, examples)
    if is_session:
        fill_empathy_none(g, {c for lab in g for c in lab.empathy})
    report = compare(g, p)
    report["gold"] = gold.name
    report["pred"] = (
        Path(pred).name if pred else f"model:{Path(model_dir).name if model_dir else 'default'}"
    )
    return report
