from pathlib import Path

import pytest

from attunement.errors import TranscriptError
from attunement.io import read_session, read_session_bytes
from attunement.model import Role

FIXTURES = Path(__file__).parent / "fixtures"


def test_csv_with_label_columns_becomes_human_annotations() -> None:
    s = read_session(FIXTURES / "labels.csv")
    assert s.format == "csv"
    assert [u.start for u in s.utterances] == [5.0, 9.0, 16.0, 24.0]
    assert [a.code for a in s.utterances[0].annotations] == ["question_open"]
    assert [a.code for a in s.utterances[3].annotations] == ["W_DEFERENTIAL", "W_MINIMAL"]
    assert all(a.source == "human" for u in s.utterances for a in u.annotations)
    assert s.utterances[2].text.startswith("It sounds like the worksheets")


def test_unknown_code_names_line_and_value_not_text() -> None:
    data = b"speaker,text,codes\nT,How are you?,\nC,I feel awful about it,W_SULKING\n"
    with pytest.raises(TranscriptError) as err:
        read_session_bytes(data, "coded.csv")
    message = str(err.value)
    assert "coded.csv, line 3" in message
    assert "W_SULKING" in message
    assert "awful" not in message


def test_family_column_rejects_codes_of_another_family() -> None:
    data = b"speaker,text,withdrawal\nT,Hi,\nC,Hello,C_REJECTS\n"
    with pytest.raises(TranscriptError, match="not a withdrawal code"):
        read_session_bytes(data, "x.csv")


def test_code_flag_columns_and_empathy_levels() -> None:
    data = (
        b"speaker,text,E_EXPLORATION,empathy\n"
        b"C,I had a rough week,,\n"
        b"T,What made it rough?,strong,E_EMOTIONAL_REACTION:weak\n"
    )
    s = read_session_bytes(data, "x.csv")
    anns = {(a.code, a.level) for a in s.utterances[1].annotations}
    assert anns == {("E_EXPLORATION", "strong"), ("E_EMOTIONAL_REACTION", "weak")}


def test_column_mapping_and_tsv_and_role_column() -> None:
    data = (
        b"Who Spoke\tWhat\tClock\tWhich\n"
        b"Sam\tShall we begin?\t00:00:02\ttherapist\n"
        b"Ari\tOkay.\t00:00:05\tclient\n"
    )
    s = read_session_bytes(
        data,
        "x.tsv",
        columns={"speaker": "Who Spoke", "text": "What", "time": "Clock", "role": "Which"},
    )
    assert [(u.speaker, u.start) for u in s.utterances] == [("Sam", 2.0), ("Ari", 5.0)]
    assert s.speaker("Sam").role is Role.THERAPIST
    assert s.speaker("Sam").role_confidence == 1.0


def test_common_header_names_are_auto_detected() -> None:
    data = b"Interlocutor;Utterance;Timestamp\nTherapist;Hello;12.5\nClient;Hi;14\n"
    s = read_session_bytes(data, "x.csv")
    assert [u.start for u in s.utterances] == [12.5, 14.0]


def test_missing_text_column_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="no text column found"):
        read_session_bytes(b"speaker,start\nT,1\nC,2\n", "x.csv")


def test_mapped_column_missing_from_header_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="'Utterance' given for text is not in the header"):
        read_session_bytes(b"speaker,text\nT,a\nC,b\n", "x.csv", columns={"text": "Utterance"})


def test_bad_time_names_the_line() -> None:
    data = b"speaker,text,start\nT,a,0:01\nC,b,soon\n"
    with pytest.raises(TranscriptError, match=r"x\.csv, line 3: unreadable start time"):
        read_session_bytes(data, "x.csv")


def test_quoted_multiline_cells_keep_record_line_numbers() -> None:
    data = b'speaker,text\nT,"one\ntwo"\nC,three\n'
    s = read_session_bytes(data, "x.csv")
    assert [u.line for u in s.utterances] == [2, 4]
    assert s.utterances[0].text == "one two"


def test_codes_on_the_wrong_role_are_kept_with_a_warning() -> None:
    data = b"speaker,text,codes\nTherapist,Hello,W_MINIMAL\nClient,Hi,\n"
    s = read_session_bytes(data, "x.csv")
    assert [a.code for a in s.utterances[0].annotations] == ["W_MINIMAL"]
    assert any("other role (first at line 2)" in w for w in s.warnings)
