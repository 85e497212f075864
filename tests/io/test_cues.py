from pathlib import Path

import pytest

from attunement.errors import TranscriptError
from attunement.io import read_session, read_session_bytes
from attunement.model import Role

FIXTURES = Path(__file__).parent / "fixtures"


def test_zoom_vtt_merges_consecutive_cues_of_one_speaker() -> None:
    s = read_session(FIXTURES / "zoom.vtt")
    assert s.format == "vtt"
    assert [u.speaker for u in s.utterances] == ["Dr. Lee", "Jordan", "Dr. Lee", "Jordan"]
    merged = s.utterances[1]
    assert merged.text == "Yes, the sound is fine. Sorry, my internet was slow earlier."
    assert (merged.start, merged.end) == (5.1, 10.9)
    assert s.utterances[3].text == "Right. It's going okay & I guess I'm adjusting."
    assert s.speaker("Dr. Lee").role is Role.THERAPIST


def test_teams_vtt_voice_tags_notes_and_settings() -> None:
    s = read_session(FIXTURES / "teams.vtt")
    assert [sp.id for sp in s.speakers] == ["Sam Rivera", "Alex Kim"]
    assert s.utterances[1].text == "I'm not sure. Things at home have been tense. " + (
        "My partner and I barely talk."
    )
    assert s.utterances[3].text == "Lonely, I think."
    assert "Recording" not in " ".join(u.text for u in s.utterances)
    # no role words in the labels: the heuristic decides, and says how sure it is
    sam = s.speaker("Sam Rivera")
    assert sam.role is Role.THERAPIST
    assert 0.5 <= sam.role_confidence < 1.0


def test_srt_with_name_prefix_and_multiline_cue() -> None:
    s = read_session(FIXTURES / "session.srt")
    assert s.format == "srt"
    assert len(s.utterances) == 3
    client = s.utterances[1]
    assert client.text == (
        "My doctor suggested it. I've not been sleeping. For about two months now."
    )
    assert (client.start, client.end) == (3.4, 9.0)


def test_unlabelled_cue_continues_previous_speaker() -> None:
    data = (
        b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nT: One.\n\n"
        b"00:00:02.000 --> 00:00:03.000\nstill talking\n\n"
        b"00:00:03.000 --> 00:00:04.000\nC: Two.\n"
    )
    s = read_session_bytes(data, "x.vtt")
    assert [u.text for u in s.utterances] == ["One. still talking", "Two."]
    assert s.utterances[0].end == 3.0


def test_malformed_timing_names_the_line() -> None:
    data = b"WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nT: One.\n\n2\n00:00:03.000 -> 4\nC: x\n"
    with pytest.raises(TranscriptError, match=r"x\.vtt, line 8: malformed cue timing"):
        read_session_bytes(data, "x.vtt")


def test_srt_malformed_timing_names_the_line() -> None:
    data = b"1\n00:00:01,000 --> 00:00:02,000\nT: One.\n\n2\n00:00:03,000 --> soon\nC: x\n"
    with pytest.raises(TranscriptError, match=r"line 6: malformed cue timing"):
        read_session_bytes(data, "x.srt")


def test_cue_without_timing_is_an_error() -> None:
    data = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nT: One.\n\nC: orphan text\n"
    with pytest.raises(TranscriptError, match=r"line 6: cue has no timing line"):
        read_session_bytes(data, "x.vtt")


def test_end_before_start_warns_and_drops_end() -> None:
    data = (
        b"WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nT: One.\n\n"
        b"00:00:06.000 --> 00:00:07.000\nC: Two.\n"
    )
    s = read_session_bytes(data, "x.vtt")
    assert s.utterances[0].start == 5.0
    assert s.utterances[0].end is None
    assert any("line 3: cue ends before it starts" in w for w in s.warnings)


def test_cues_without_any_speaker_are_an_error() -> None:
    data = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhello\n"
    with pytest.raises(TranscriptError, match="no speaker labels found"):
        read_session_bytes(data, "x.vtt")
