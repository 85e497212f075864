"""Session quality indicators: each beside its published anchor; a total only from those."""

from __future__ import annotations

import pytest

from attunement.analysis.attunement_score import ANCHORS, AttunementScore
from attunement.analysis.context_rules import ContextRules
from attunement.analysis.episodes import RuptureEpisodes
from attunement.model import Annotation, Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


def session(behaviours: list[str], failures: int = 0, empathic: int = 0) -> Session:
    """One client turn before each therapist turn; therapist behaviours as given."""
    utts: list[Utterance] = []
    for i, beh in enumerate(behaviours):
        utts.append(
            Utterance(
                id=f"u{2 * i + 1:04d}",
                index=2 * i,
                speaker="B",
                role=C,
                text="The week at the depot was long and I slept badly most nights.",
            )
        )
        codes = [Annotation(code=beh, probability=0.9)]
        if i < failures:
            codes.append(Annotation(code="F_DISMISS", probability=0.9))
        if i < empathic:
            codes.append(Annotation(code="E_INTERPRETATION", probability=0.9, level="strong"))
        utts.append(
            Utterance(
                id=f"u{2 * i + 2:04d}",
                index=2 * i + 1,
                speaker="Dr. A",
                role=T,
                text="Long nights at the depot, and little sleep after them.",
                annotations=codes,
            )
        )
    return Session(
        id="quality",
        speakers=[Speaker(id="Dr. A", role=T), Speaker(id="B", role=C)],
        utterances=utts,
    )


def run(s: Session) -> dict:  # type: ignore[type-arg]
    out: dict = AttunementScore()(RuptureEpisodes()(ContextRules()(s))).metrics["attunement"]  # type: ignore[type-arg]
    return out


def test_indicators_are_counted_from_behaviour_codes() -> None:
    m = run(session(["reflection_complex"] * 4 + ["reflection_simple"] * 2 + ["question_open"] * 2))
    ind = m["indicators"]
    assert ind["rq"]["value"] == pytest.approx(3.0)
    assert ind["complex"]["value"] == pytest.approx(4 / 6, abs=1e-3)
    assert ind["open"]["value"] is None  # two questions are too few for a share
    assert ind["rq"]["level"] == "good" and ind["complex"]["level"] == "good"


def test_each_anchored_indicator_shows_its_published_anchor() -> None:
    m = run(session(["question_closed"] * 6 + ["reflection_simple"] * 3))
    for key, (fair, good) in ANCHORS.items():
        anchor = m["indicators"][key]["anchor"]
        assert (anchor["fair"], anchor["good"]) == (fair, good)
        assert "MITI" in anchor["source"]
    for key in ("empathy", "failures", "unrepaired", "feelings_met"):
        assert m["indicators"][key]["anchor"] is None  # shown without a made-up anchor


def test_total_is_the_share_of_anchor_points_reached() -> None:
    poor = run(session(["question_closed"] * 8 + ["reflection_simple"] * 2))
    good = run(
        session(["reflection_complex"] * 10 + ["reflection_simple"] * 2 + ["question_open"] * 5)
    )
    # poor: R:Q 0.25 below fair, %CR 0 below fair, %OQ 0 below fair
    assert poor["score"] == 0.0
    # good: R:Q 2.4 good, %CR 83% good, %OQ 100% good
    assert good["score"] == 100.0
    mid = run(session(["reflection_simple"] * 6 + ["question_open"] * 3 + ["question_closed"] * 2))
    # R:Q 1.2 fair (1 point), %CR 0 (0), %OQ 60% fair (1) -> 2 of 6
    assert mid["score"] == pytest.approx(100 * 2 / 6, abs=0.1)


def test_failures_and_empathy_are_shown_but_not_in_the_total() -> None:
    behaviours = ["reflection_complex"] * 6 + ["question_open"] * 5
    a, b = run(session(behaviours)), run(session(behaviours, failures=4, empathic=3))
    assert a["score"] == b["score"]
    assert b["indicators"]["failures"]["value"] == pytest.approx(4 / 11, abs=1e-3)
    assert b["indicators"]["empathy"]["value"] == pytest.approx(3 / 11, abs=1e-3)


def test_no_therapist_codes_gives_no_total() -> None:
    s = session(["question_open"] * 6)
    for u in s.utterances:
        u.annotations = []
    m = run(s)
    assert m["score"] is None
    assert m["headline"]["Quality (MITI anchors reached)"] == "n/a"
    assert all(m["indicators"][k]["value"] is None for k in ANCHORS)
