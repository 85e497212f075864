"""The session attunement score moves the right way and explains itself."""

from __future__ import annotations

import pytest

from attunement.analysis.attunement_score import DEFAULT_WEIGHTS, AttunementScore
from attunement.analysis.context_rules import ContextRules
from attunement.analysis.episodes import RuptureEpisodes
from attunement.model import Annotation, Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


def session(
    empathic: int = 0,
    failures: int = 0,
    sem: float = 0.4,
    er: float | None = 0.6,
    lsm: float | None = 0.85,
    markers: int = 0,
) -> Session:
    """Eight exchanges; the first ``empathic`` replies strongly empathic, etc."""
    utts: list[Utterance] = []
    for i in range(8):
        c_codes = [Annotation(code="W_DENIAL", probability=0.8)] if i < markers else []
        utts.append(
            Utterance(
                id=f"u{2 * i + 1:04d}",
                index=2 * i,
                speaker="B",
                role=C,
                text="It was a hard week, honestly, with my father in hospital again.",
                annotations=c_codes,
            )
        )
        codes = [Annotation(code="question_open", probability=0.9)]
        if i < empathic:
            codes.append(Annotation(code="E_INTERPRETATION", probability=0.9, level="strong"))
        if i < failures:
            codes.append(Annotation(code="F_DISMISS", probability=0.9))
        feats: dict[str, float | None] = {"semantic_responsiveness": sem}
        if er is not None:
            feats["emotional_responsiveness"] = er
        utts.append(
            Utterance(
                id=f"u{2 * i + 2:04d}",
                index=2 * i + 1,
                speaker="Dr. A",
                role=T,
                text="What was that like for you?",
                annotations=codes,
                features=feats,
            )
        )
    s = Session(
        id="score",
        speakers=[Speaker(id="Dr. A", role=T), Speaker(id="B", role=C)],
        utterances=utts,
    )
    if lsm is not None:
        s.metrics["lsm"] = {"session": lsm, "headline": {"LSM (session)": lsm}}
    return s


def score(s: Session) -> float:
    s = AttunementScore()(RuptureEpisodes()(ContextRules()(s)))
    value = s.metrics["attunement"]["score"]
    assert isinstance(value, float)
    return value


def test_more_empathy_scores_higher() -> None:
    assert score(session(empathic=0)) < score(session(empathic=2)) < score(session(empathic=4))


def test_failures_and_low_responsiveness_score_lower() -> None:
    assert score(session(failures=3)) < score(session(failures=0))
    assert score(session(sem=0.1)) < score(session(sem=0.5))
    assert score(session(er=0.1)) < score(session(er=0.9))
    assert score(session(lsm=0.65)) < score(session(lsm=0.92))


def test_unrepaired_episodes_score_lower() -> None:
    assert score(session(markers=3)) < score(session(markers=0))


def test_breakdown_explains_the_score() -> None:
    s = AttunementScore()(RuptureEpisodes()(ContextRules()(session(empathic=2))))
    m = s.metrics["attunement"]
    comps = m["components"]
    assert set(comps) == set(DEFAULT_WEIGHTS)
    assert sum(c["points"] for c in comps.values() if c["points"] is not None) == pytest.approx(
        m["score"], abs=0.1
    )
    assert comps["empathy"]["raw"] == 0.25 and comps["empathy"]["value"] == 0.5
    assert m["headline"]["Attunement score"] == m["score"]
    assert m["headline"]["Components available"] == "6 of 6"


def test_missing_inputs_are_left_out_not_zero() -> None:
    s = session(empathic=0, er=None, lsm=0.85)
    for u in s.utterances:
        u.annotations = []  # a model without therapist heads
    s = AttunementScore()(s)
    comps = s.metrics["attunement"]["components"]
    assert comps["empathy"]["value"] is None and comps["emotional"]["value"] is None
    assert comps["episodes"]["value"] is None  # episodes did not run
    assert s.metrics["attunement"]["headline"]["Components available"] == "2 of 6"
    # semantic 0.4 -> 0.125 (weight 0.15), LSM 0.85 -> 0.714 (weight 0.10), renormalized
    expected = 100 * (0.15 * 0.125 + 0.10 * (0.25 / 0.35)) / 0.25
    assert s.metrics["attunement"]["score"] == pytest.approx(expected, abs=0.05)


def test_too_little_input_gives_no_score() -> None:
    s = session(er=None, lsm=None)
    for u in s.utterances:
        u.annotations = []
    m = AttunementScore()(s).metrics["attunement"]
    assert m["score"] is None and m["headline"]["Attunement score"] == "n/a"


def test_weights_are_parameters() -> None:
    s = session(empathic=4)
    only = AttunementScore(weights={"empathy": 1.0}, min_components=1)(
        RuptureEpisodes()(ContextRules()(s))
    )
    assert only.metrics["attunement"]["score"] == 100.0
    with pytest.raises(ValueError):
        AttunementScore(weights={"charm": 1.0})
