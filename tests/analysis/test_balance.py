"""Talk balance on small invented sessions."""

from __future__ import annotations

from attunement.analysis.balance import TalkBalance, reflection_question_ratio
from attunement.model import Annotation, Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


def _session(
    lines: list[tuple[str, Role, str, float | None, float | None]],
    speakers: dict[str, Role] | None = None,
) -> Session:
    spk = speakers or {"T": T, "C": C}
    return Session(
        id="s",
        speakers=[Speaker(id=k, role=v) for k, v in spk.items()],
        utterances=[
            Utterance(id=f"u{i + 1:04d}", index=i, speaker=s, role=r, text=t, start=a, end=b)
            for i, (s, r, t, a, b) in enumerate(lines)
        ],
    )


def _untimed() -> Session:
    return _session(
        [
            ("T", T, "How was your week?", None, None),
            ("C", C, "It was long and I didn't sleep much at all.", None, None),
            ("T", T, "Long and tiring.", None, None),
            ("C", C, "Yeah.", None, None),
        ]
    )


def test_words_turns_and_shares_without_timestamps() -> None:
    s = TalkBalance()(_untimed())
    assert [u.features["words"] for u in s.utterances] == [4.0, 10.0, 3.0, 1.0]
    m = s.metrics["talk"]
    assert m["words"]["by_role"] == {"therapist": 7, "client": 11}
    assert m["turns"] == {"therapist": 2, "client": 2}
    assert m["turn_words"]["client"] == {"mean": 5.5, "median": 5.5}
    assert m["therapist_word_share"] == round(7 / 18, 4)
    assert m["longest_client_turn"]["id"] == "u0002"
    assert m["longest_client_turn"]["words"] == 10
    # timing-based metrics are absent, not zero, when there are no timestamps
    assert m["speaking_time"] is None and m["silences"] is None and m["overlaps"] is None
    assert "Silences ≥3 s" not in m["headline"]
    assert 1 <= len(m["headline"]) <= 5
    assert m["headline"]["Therapist talk %"] == 38.9


def test_silences_and_overlaps_from_timestamps() -> None:
    s = _session(
        [
            ("T", T, "How was your week?", 0.0, 2.0),
            ("C", C, "Hard.", 7.5, 8.0),  # 5.5 s silence after the therapist
            ("T", T, "Hard how?", 9.0, 10.0),  # 1 s gap: not a silence
            ("C", C, "I mean, everything just piled up on me.", 9.5, 14.0),  # 0.5 s overlap
            ("T", T, "Everything at once.", 17.0, 18.0),  # 3.0 s silence after the client
        ]
    )
    m = TalkBalance()(s).metrics["talk"]
    sil = m["silences"]
    assert sil["count"] == 2
    assert sil["total_seconds"] == 8.5
    assert sil["longest"]["seconds"] == 5.5
    assert sil["longest"]["after"] == "u0001" and sil["longest"]["before"] == "u0002"
    assert sil["after_role"] == {"therapist": 1, "client": 1}
    assert m["overlaps"] == {"count": 1, "total_seconds": 0.5}
    assert m["speaking_time"]["seconds_by_role"] == {"therapist": 4.0, "client": 5.0}
    assert m["headline"]["Silences ≥3 s"] == 2


def test_multi_party_counts_each_speaker() -> None:
    s = _session(
        [
            ("T", T, "What brings you both in?", None, None),
            ("A", C, "We keep fighting about money.", None, None),
            ("B", C, "Mostly about money, yes.", None, None),
        ],
        speakers={"T": T, "A": C, "B": C},
    )
    m = TalkBalance()(s).metrics["talk"]
    assert m["words"]["by_speaker"] == {"T": 5, "A": 5, "B": 4}
    assert m["word_share"]["by_speaker"]["A"] == round(5 / 14, 4)


def _annotate(u: Utterance, code: str, p: float = 0.9) -> None:
    u.annotations.append(Annotation(code=code, probability=p, source="coding@1"))


def test_reflection_question_ratio_hook() -> None:
    s = _session(
        [
            ("T", T, "What happened?", None, None),
            ("C", C, "He left.", None, None),
            ("T", T, "He left, and you were alone.", None, None),
            ("C", C, "Yes.", None, None),
            ("T", T, "Alone again.", None, None),
            ("C", C, "Right.", None, None),
            ("T", T, "Did he call?", None, None),
        ]
    )
    assert reflection_question_ratio(s) is None  # nothing coded yet
    assert TalkBalance()(s).metrics["talk"]["headline"]["Reflections per question"] == "n/a"
    _annotate(s.utterances[0], "question_open")
    _annotate(s.utterances[2], "reflection_complex")
    _annotate(s.utterances[4], "reflection_simple")
    _annotate(s.utterances[6], "question_closed", p=0.3)  # below threshold: ignored
    assert reflection_question_ratio(s) == 2.0
    m = TalkBalance()(s).metrics["talk"]
    assert m["reflection_question_ratio"] == 2.0
    assert m["headline"]["Reflections per question"] == 2.0


def test_rerun_is_idempotent() -> None:
    a = TalkBalance()
    s = a(_untimed())
    first = s.model_dump_json()
    assert a(s).model_dump_json() == first
    assert s.provenance == ["talk@1"]
