"""Tiny invented coded data for the coding tests (written for these tests, no real sessions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_OPEN = [
    "How did that feel for you?",
    "What was going through your mind then?",
    "Can you tell me more about that week?",
    "What comes up when you think about it?",
]
_MINIMAL = ["Yeah.", "I guess.", "Dunno.", "Fine.", "Maybe.", "Sure."]
_ENDING = [
    "I can't afford to keep coming, so this is my last session.",
    "I think I need to stop therapy for a while, money is tight.",
    "This will be my last appointment, I'm ending things here.",
    "I won't be coming back after today.",
]
_NEUTRAL = [
    "We went to the lake on Sunday and my sister brought her kids along.",
    "Work was busy, we had two people out sick and I covered the front desk.",
    "I started cooking more at home, mostly soups and rice.",
    "My brother called about the car, he wants to sell it in spring.",
]
_STRONG_EMO = [
    "That sounds so lonely, I'm really sorry you went through that.",
    "I'm so sorry, that must have hurt deeply.",
]
_WEAK_EMO = ["I'm sorry.", "That's hard."]
_EXPLORE = [
    "What happened after that?",
    "Could you tell me more about how that felt?",
]
_ADVICE = [
    "You should try writing a list before you go to bed.",
    "Try calling her tomorrow morning instead.",
]


def tiny_records() -> list[dict[str, object]]:
    """About 150 records across 10 groups: client markers and therapist responses."""
    recs: list[dict[str, object]] = []
    n = 0
    for g in range(10):
        group = f"g{g:02d}"
        for i in range(6):
            n += 1
            ctx = [{"role": "therapist", "text": _OPEN[(g + i) % len(_OPEN)]}]
            if i % 3 == 0:
                text, codes = _MINIMAL[(g + i) % len(_MINIMAL)], ["W_MINIMAL"]
            elif i % 3 == 1:
                text, codes = _ENDING[(g + i) % len(_ENDING)], ["C_PARAMETERS", "TERMINATION_RISK"]
            else:
                text, codes = _NEUTRAL[(g + i) % len(_NEUTRAL)], []
            recs.append(
                {
                    "id": f"c{n}",
                    "group": group,
                    "context": ctx,
                    "role": "client",
                    "text": text,
                    "codes": codes,
                }
            )
        for i in range(8):
            n += 1
            ctx = [{"role": "client", "text": _NEUTRAL[(g + i) % len(_NEUTRAL)]}]
            k = i % 4
            if k == 0:
                text, emp, beh = (
                    _STRONG_EMO[(g + i) % 2],
                    {"E_EMOTIONAL_REACTION": "strong"},
                    "other",
                )
            elif k == 1:
                text, emp, beh = _WEAK_EMO[(g + i) % 2], {"E_EMOTIONAL_REACTION": "weak"}, "other"
            elif k == 2:
                text, emp, beh = _EXPLORE[(g + i) % 2], {"E_EXPLORATION": "strong"}, "question_open"
            else:
                text, emp, beh = _ADVICE[(g + i) % 2], {}, "advice"
            full = {
                c: emp.get(c, "none")
                for c in ("E_EMOTIONAL_REACTION", "E_INTERPRETATION", "E_EXPLORATION")
            }
            recs.append(
                {
                    "id": f"t{n}",
                    "group": group,
                    "context": ctx,
                    "role": "therapist",
                    "text": text,
                    "empathy": full,
                    "behaviour": beh,
                    "codes": ["F_PREMATURE"] if k == 3 else [],
                }
            )
    return recs


@pytest.fixture
def tiny_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in tiny_records()) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_jsonl_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same data as ``tiny_jsonl``, written once per test module."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in tiny_records()) + "\n", encoding="utf-8")
    return path
