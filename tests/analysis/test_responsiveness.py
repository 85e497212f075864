"""Emotional responsiveness: the rule set on invented exchanges."""

from __future__ import annotations

from attunement.analysis.pipeline import analyze, build_pipeline
from attunement.analysis.responsiveness import EmotionalResponsiveness, ReplyScorer
from attunement.analysis.tone import EmotionalTone
from attunement.model import Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


def _session(lines: list[tuple[Role, str]]) -> Session:
    return Session(
        id="s",
        speakers=[Speaker(id="T", role=T), Speaker(id="C", role=C)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="T" if r is T else "C",
                role=r,
                text=t,
                start=60.0 * i,
                end=60.0 * i + 30,
            )
            for i, (r, t) in enumerate(lines)
        ],
    )


def _score(client: str, reply: str) -> tuple[float, list[str]]:
    s = EmotionalTone()(_session([(C, client), (T, reply)]))
    return ReplyScorer().score(s.utterances[0], s.utterances[1])


def test_rules() -> None:
    sad = "I've been so sad since she left."
    score, fired = _score(sad, "It sounds like you feel really sad and alone without her.")
    assert score == 0.9 and fired == ["same_emotion", "reflection"]
    score, fired = _score(sad, "You sound hurt.")
    assert fired == ["related_emotion", "reflection"] and score == 0.8
    score, fired = _score(sad, "I'm sorry. How did that feel when she went?")
    assert fired == ["acknowledgement", "exploration"] and score == 0.7
    score, fired = _score(sad, "Okay.")
    assert score == 0.0 and fired == []
    score, fired = _score(sad, "You should try a sleep diary. Same time next week?")
    assert score == 0.0 and fired == ["logistics_or_advice"]
    # advice that also names the feeling is not penalized
    score, fired = _score(sad, "That's sad; you should still try the diary.")
    assert "logistics_or_advice" not in fired and score == 0.5


def test_session_summary_and_missed_moments() -> None:
    s = _session(
        [
            (T, "How are things?"),
            (C, "I'm scared all the time and I can't sleep."),
            (T, "Scared all the time. What is that like for you?"),
            (C, "We painted the kitchen on Sunday."),
            (T, "What colour?"),
            (C, "I'm so angry at him I could scream."),
            (T, "Let's look at the homework from last week."),
        ]
    )
    s = analyze(s, pipeline=build_pipeline(["emotional_responsiveness"]))
    assert s.provenance == ["tone@1", "emotional_responsiveness@1"]
    feats = [u.features.get("emotional_responsiveness") for u in s.utterances]
    assert feats[2] is not None and feats[2] >= 0.5
    assert feats[4] is None  # the client turn before it expressed no feeling
    assert feats[6] == 0.0
    m = s.metrics["emotional_responsiveness"]
    assert m["feeling_moments"] == 2 and m["responsive"] == 1 and m["share_responsive"] == 0.5
    assert m["validated"] is False
    assert m["missed"] == [
        {"client": "u0006", "reply": "u0007", "client_at": "5:00", "reply_at": "6:00", "score": 0.0}
    ]
    assert m["headline"]["Missed moments"] == 1


def test_no_feelings_means_no_moments() -> None:
    s = EmotionalTone()(_session([(T, "Hi."), (C, "We painted the kitchen."), (T, "Nice.")]))
    m = EmotionalResponsiveness()(s).metrics["emotional_responsiveness"]
    assert m["feeling_moments"] == 0 and m["mean_score"] is None
    assert m["headline"]["Met with a responsive reply %"] == "n/a"


def test_rerun_is_idempotent() -> None:
    s = EmotionalTone()(_session([(C, "I feel so ashamed."), (T, "That must be heavy.")]))
    a = EmotionalResponsiveness()
    first = a(s).model_dump_json()
    assert a(s).model_dump_json() == first
