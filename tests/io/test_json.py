import json
from pathlib import Path

import pytest

from attunement.errors import TranscriptError
from attunement.io import read_session, read_session_bytes
from attunement.model import Annotation, Role

FIXTURES = Path(__file__).parent / "fixtures"


def test_session_json_round_trips_losslessly(tmp_path: Path) -> None:
    original = read_session(FIXTURES / "zoom.vtt")
    original.utterances[1].annotations.append(
        Annotation(code="W_MINIMAL", probability=0.7, source="markers@1")
    )
    original.utterances[1].features["valence"] = -0.25
    original.metrics["talk"] = {"headline": {"client share": 0.4}}
    original.meta.session_number = 6
    path = tmp_path / "s.json"
    path.write_text(original.model_dump_json(indent=2), encoding="utf-8")
    again = read_session(path)
    assert again == original
    assert again.format == "vtt"  # the stored session is untouched


def test_simple_utterance_list_and_bare_list() -> None:
    s = read_session(FIXTURES / "simple.json")
    assert s.format == "json"
    assert s.speaker("Counselor").role is Role.THERAPIST
    assert [u.start for u in s.utterances] == [0.0, 4.5, 9.0]
    bare = json.dumps(
        [{"name": "T", "utterance": "Hi", "time": "0:03"}, {"name": "C", "utterance": "Hey"}]
    )
    s2 = read_session_bytes(bare.encode(), "bare.json")
    assert [(u.speaker, u.start) for u in s2.utterances] == [("T", 3.0), ("C", None)]


def test_wrong_schema_version_is_an_error() -> None:
    data = json.dumps({"schema_version": "attunement.session/9", "id": "x"}).encode()
    with pytest.raises(TranscriptError, match="unsupported session schema version"):
        read_session_bytes(data, "s.json")


def test_invalid_session_names_the_field_not_the_content() -> None:
    session = read_session(FIXTURES / "zoom.vtt").model_dump(mode="json")
    session["utterances"][0]["role"] = "friend"
    with pytest.raises(TranscriptError) as err:
        read_session_bytes(json.dumps(session).encode(), "s.json")
    assert "utterances.0.role" in str(err.value)
    assert "Thanks for logging on" not in str(err.value)


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(TranscriptError, match=r"s\.json, line 2: not valid JSON"):
        read_session_bytes(b'{"utterances": [\n  {"speaker": }\n]}', "s.json")


def test_role_override_on_stored_session() -> None:
    data = read_session(FIXTURES / "zoom.vtt").model_dump_json().encode()
    s = read_session_bytes(data, "s.json", therapist=["jordan"])
    assert s.speaker("Jordan").role is Role.THERAPIST
    assert s.speaker("Dr. Lee").role is Role.CLIENT
    assert all(u.role is Role.THERAPIST for u in s.utterances if u.speaker == "Jordan")


def test_simple_list_codes_become_human_annotations() -> None:
    data = json.dumps(
        [
            {"speaker": "T", "text": "How was it?", "codes": ["question_open"]},
            {"speaker": "C", "text": "Fine.", "codes": "W_MINIMAL; W_DENIAL"},
        ]
    ).encode()
    s = read_session_bytes(data, "x.json")
    assert [[a.code for a in u.annotations] for u in s.utterances] == [
        ["question_open"],
        ["W_MINIMAL", "W_DENIAL"],
    ]


def test_simple_list_errors_name_the_utterance_number() -> None:
    data = json.dumps([{"speaker": "T", "text": "a"}, {"speaker": "C", "text": "b", "start": "x"}])
    with pytest.raises(TranscriptError, match=r"x\.json, utterance 2: unreadable start time"):
        read_session_bytes(data.encode(), "x.json")
