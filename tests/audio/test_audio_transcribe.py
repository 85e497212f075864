"""From a recording to a coded transcript, end to end, on the project's own test audio.

Floors, not targets: espeak-ng voices and Whisper tiny.en measured WER ≈ 0.10, DER ≈ 0.09
and every turn attributed right (docs/benchmarks.md); these tests fail if that breaks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attunement.cli.main import main
from attunement.io import read_session

LAYOUTS = {
    "one file per participant": ["therapist.wav", "client.wav"],
    "stereo, a voice per channel": ["stereo.wav"],
    "one mixed track": ["mixed.wav"],
}


@pytest.fixture(scope="module")
def sessions(spoken: Path) -> dict[str, Any]:
    from attunement.audio.transcribe import transcribe

    return {name: transcribe([spoken / f for f in files]) for name, files in LAYOUTS.items()}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_words_speakers_and_turns(
    sessions: dict[str, Any], truth: list[dict[str, Any]], scoring: Any, layout: str
) -> None:
    session = sessions[layout]
    assert scoring.wer(truth, session) <= 0.25
    assert scoring.der(truth, session)["der"] <= 0.2
    turns = scoring.turns(truth, session)
    assert turns["attribution"] >= 0.9
    assert abs(turns["turns_found"] - turns["turns_truth"]) <= 2
    assert turns["start_error_s"] <= 0.5
    roles = {s.role.value for s in session.speakers}
    assert roles == {"therapist", "client"}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_vocal_cues_on_every_utterance(
    sessions: dict[str, Any], truth: list[dict[str, Any]], scoring: Any, layout: str
) -> None:
    session = sessions[layout]
    for u in session.utterances[1:]:
        assert u.features["pause_before_s"] >= 0
        assert 0 < u.features["speech_rate_wps"] < 8
        assert -80 < u.features["loudness_db"] < 0
    for pause in scoring.pause_cue(truth, session)["pauses"]:
        assert pause["measured_s"] == pytest.approx(pause["scripted_s"], abs=0.5)


def test_a_minimal_answer_after_a_long_pause_is_a_withdrawal_cue(
    spoken: Path, truth: list[dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / "session.json"
    assert main(["analyze", str(spoken / "stereo.wav"), "--fast", "--json", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    after_pause = [
        a
        for u in doc["utterances"]
        for a in u["annotations"]
        if a["code"] == "W_MINIMAL" and "pause (vocal cue)" in (a.get("note") or "")
    ]
    long_pauses = [t for t in truth if t["pause_before"] >= 2 and len(t["text"].split()) <= 4]
    assert len(after_pause) >= len(long_pauses) - 1 >= 1
    cues = [m.get("cue") for e in doc["episodes"] for m in e["markers"]]
    assert all(c is None or c.startswith("after a ") for c in cues)


def test_transcribe_writes_readable_transcripts_and_never_the_audio(
    spoken: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = [
        "transcribe",
        str(spoken / "therapist.wav"),
        str(spoken / "client.wav"),
        "--tracks",
        "--out",
        str(out),
        "--format",
        "text",
        "--therapist",
        "therapist",
    ]
    assert main(args) == 0
    assert [p.name for p in out.iterdir()] == ["therapist.txt"]
    session = read_session(out / "therapist.txt")
    assert {s.id: s.role.value for s in session.speakers} == {
        "therapist": "therapist",
        "client": "client",
    }
    assert "Good morning" in session.utterances[0].text


def test_analyze_reads_a_recording_like_a_transcript(spoken: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    assert main(["analyze", str(spoken / "mixed.wav"), "--fast", "--html", str(out), "-q"]) == 0
    html = (out / "mixed.html").read_text()
    assert "Speaker 1" in html and "Speaker 2" in html
