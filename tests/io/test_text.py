from pathlib import Path

import pytest

from attunement.errors import TranscriptError
from attunement.io import read_session, read_session_bytes
from attunement.model import Role

FIXTURES = Path(__file__).parent / "fixtures"


def test_labelled_text_with_timestamps_and_continuations() -> None:
    s = read_session(FIXTURES / "labelled.txt")
    assert s.format == "text"
    assert s.source == "labelled.txt"
    assert [u.id for u in s.utterances] == ["u0001", "u0002", "u0003", "u0004", "u0005"]
    assert [u.speaker for u in s.utterances] == ["T", "C", "T", "C", "T"]
    second = s.utterances[1]
    assert second.text == "Fine. Busy, mostly. It was a lot of driving back and forth. (laughs)"
    assert second.start == 9.0
    assert second.line == 4
    assert s.utterances[4].start == 35.0
    assert s.speaker("T").role is Role.THERAPIST
    assert s.speaker("C").role is Role.CLIENT
    assert any("before the first speaker label" in w for w in s.warnings)


def test_named_speakers_and_reported_speech_stays_in_text() -> None:
    s = read_session(FIXTURES / "names.txt")
    assert [sp.id for sp in s.speakers] == ["Dr. Lee", "Maria"]
    assert s.speaker("Dr. Lee").role is Role.THERAPIST
    # "He said: ..." is reported speech, not a third speaker
    assert s.utterances[3].text == "He said: you always make it about yourself."
    # consecutive lines of one speaker merge
    assert s.utterances[1].text.startswith("Maybe with the phone call")
    assert s.utterances[1].text.endswith("whole weekend.")


def test_timestamp_styles() -> None:
    data = (
        b"(00:12) Therapist: One.\n"
        b"00:00:20 Client: Two.\n"
        b"[1:02:03.5] Therapist: Three.\n"
        b"Client [01:04:00]: Four.\n"
    )
    s = read_session_bytes(data, "t.txt")
    assert [u.start for u in s.utterances] == [12.0, 20.0, 3723.5, 3840.0]


def test_header_style_speaker_lines() -> None:
    data = b"Dr. Lee   0:03\nHow are you today?\n\nMaria   0:07\nTired.\nReally tired.\n"
    s = read_session_bytes(data, "t.txt")
    assert [(u.speaker, u.text, u.start) for u in s.utterances] == [
        ("Dr. Lee", "How are you today?", 3.0),
        ("Maria", "Tired. Really tired.", 7.0),
    ]


def test_case_insensitive_labels_are_one_speaker() -> None:
    data = b"Therapist: Hi.\nCLIENT 2: Hello.\nClient 2: Still me.\nTherapist: Okay.\n"
    s = read_session_bytes(data, "t.txt")
    assert [sp.id for sp in s.speakers] == ["Therapist", "CLIENT 2"]
    assert len(s.utterances) == 3


def test_couples_session_keeps_every_speaker() -> None:
    s = read_session(FIXTURES / "couples.txt")
    assert [sp.id for sp in s.speakers] == ["Therapist", "Dana", "Chris"]
    assert [sp.role for sp in s.speakers] == [Role.THERAPIST, Role.CLIENT, Role.CLIENT]
    assert s.utterances[5].text == "(sighs) Here we go."
    assert len(s.by_role(Role.CLIENT)) == 4


def test_no_labels_is_an_error_naming_the_file() -> None:
    with pytest.raises(TranscriptError, match=r"notes\.txt: no speaker labels found"):
        read_session_bytes(b"just some prose\nwithout any speakers\n", "notes.txt")


def test_only_one_speaker_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="only 1 speaker"):
        read_session_bytes(b"Therapist: hello\nTherapist: anyone?\n", "t.txt")


def test_markup_is_stripped_and_whitespace_collapsed() -> None:
    data = b"T:   Hello   <i>there</i>\nC: Hi\t\tback\n"
    s = read_session_bytes(data, "t.txt")
    assert [u.text for u in s.utterances] == ["Hello there", "Hi back"]


def test_source_is_base_name_and_id_is_stable(tmp_path: Path) -> None:
    folder = tmp_path / "Maria Gonzalez"
    folder.mkdir()
    path = folder / "week6.txt"
    path.write_bytes((FIXTURES / "labelled.txt").read_bytes())
    a = read_session(path)
    b = read_session(FIXTURES / "labelled.txt", therapist=["T"])
    assert a.source == "week6.txt"
    assert "Maria" not in a.model_dump_json()
    assert a.id == b.id
    assert len(a.id) == 16
    other = read_session(FIXTURES / "names.txt")
    assert other.id != a.id


def test_header_words_and_single_names() -> None:
    data = (
        b"Date: 3 March\nNote: audio was poor\n"
        b"Facilitator: Let's go round.\nAmy: Me first.\nBen: Then me.\n"
        b"Facilitator: Thanks, Ben.\n"
    )
    s = read_session_bytes(data, "group.txt")
    assert [sp.id for sp in s.speakers] == ["Facilitator", "Amy", "Ben"]
    assert s.speaker("Facilitator").role is Role.THERAPIST
    assert any("2 line(s) before the first speaker label" in w for w in s.warnings)


def test_markdown_bold_and_parenthesised_labels() -> None:
    data = b"**Therapist (Dr. Lee):** Hello there.\n**Client:** Hi.\n"
    s = read_session_bytes(data, "notes.md")
    assert [(u.speaker, u.role, u.text) for u in s.utterances] == [
        ("Therapist (Dr. Lee)", Role.THERAPIST, "Hello there."),
        ("Client", Role.CLIENT, "Hi."),
    ]
