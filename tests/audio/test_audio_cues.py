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
