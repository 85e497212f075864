"""Vocal cues computed from utterance times and the audio under them."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.model import Role, Session, Speaker, Utterance

pytest.importorskip("librosa")

RATE = 16_000


def _session(times: list[tuple[str, float, float, str]]) -> Session:
    roles = {"T": Role.THERAPIST, "C": Role.CLIENT}
    return Session(
        id="s",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(
                id=f"u{i}", index=i, speaker=who, role=roles[who], text=text, start=start, end=end
            )
            for i, (who, start, end, text) in enumerate(times)
        ],
    )


def test_pauses_overlaps_interruptions_rate_loudness_and_pitch() -> None:
    from attunement.audio import cues

    t = np.arange(int(10 * RATE)) / RATE
    steady = 0.3 * np.sin(2 * np.pi * 150 * t)  # one pitch
    sweep = 0.03 * np.sin(2 * np.pi * (120 + 20 * t) * t)  # gliding pitch, 20 dB quieter
    session = _session(
        [
            ("T", 0.0, 2.0, "how was the week for you"),
            ("C", 4.5, 4.8, "fine"),
            ("T", 4.6, 7.0, "and what about the weekend then"),
        ]
    )
    cues.attach(session, {"T": steady, "C": sweep}, None)
    first, second, third = (u.features for u in session.utterances)
    assert "pause_before_s" not in first
    assert second["pause_before_s"] == pytest.approx(2.5)
    assert second["interrupts"] == 0.0
    assert third["overlap_s"] == pytest.approx(0.2) and third["interrupts"] == 0.0
    assert first["speech_rate_wps"] == pytest.approx(3.0)
    assert first["loudness_db"] - second["loudness_db"] == pytest.approx(20, abs=1)
    assert first["pitch_sd_st"] < 0.2  # a steady tone barely varies
    assert second["pitch_sd_st"] is None  # too short to say


def test_a_turn_starting_well_inside_another_is_an_interruption() -> None:
    from attunement.audio import cues

    session = _session([("T", 0.0, 3.0, "so what I was wondering"), ("C", 2.0, 4.0, "no wait")])
    cues.attach(session, {}, None)
    assert session.utterances[1].features["interrupts"] == 1.0
    assert session.utterances[1].features["overlap_s"] == pytest.approx(1.0)


def _coded(
    times: list[tuple[str, float, float, str]], codes: dict[int, tuple[str, float, str]]
) -> Session:
    from attunement.analysis.context_rules import ContextRules
    from attunement.model import Annotation

    session = _session(times)
    prev_end = None
    for u in session.utterances:
        if prev_end is not None:
            u.features["pause_before_s"] = u.start - prev_end
        prev_end = u.end
    for i, (code, p, source) in codes.items():
        session.utterances[i].annotations.append(
            Annotation(code=code, probability=p, source=source)
        )
    return ContextRules()(session)


def _pause_notes(session: Session) -> list[str]:
    return [
        u.id
        for u in session.utterances
        for a in u.annotations
        if a.code == "W_MINIMAL" and "pause" in (a.note or "")
    ]


def test_the_pause_rule_needs_the_therapist_just_before() -> None:
    alone = _coded([("T", 0, 2, "what was that like for you"), ("C", 5, 5.5, "fine")], {})
    assert _pause_notes(alone) == ["u1"]
    # a second client answering the first after a pause is not the client going quiet
    couple = _coded(
        [
            ("T", 0, 2, "what was that like"),
            ("C", 2.5, 6, "it was a hard week for both of us"),
            ("C", 9, 9.4, "yeah"),
        ],
        {},
    )
    assert _pause_notes(couple) == []


def test_the_pause_rule_never_lowers_a_code_or_overrides_a_human() -> None:
    times = [("T", 0, 2, "what was that like for you"), ("C", 5, 5.5, "fine")]
    strong = _coded(times, {1: ("W_MINIMAL", 0.95, "coding@1")})
    assert strong.utterances[1].effective()["W_MINIMAL"].probability == 0.95
    human = _coded(times, {1: ("W_DENIAL", 1.0, "human")})
    assert "W_MINIMAL" not in human.utterances[1].effective()
