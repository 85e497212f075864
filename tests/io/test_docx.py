from pathlib import Path

import docx
import pytest

from attunement.errors import TranscriptError
from attunement.io import detect_format, read_session
from attunement.model import Role


def _write(path: Path, paragraphs: list[str]) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def test_typed_docx_transcript(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "typed.docx",
        [
            "Session 4 — typed up from notes",
            "Therapist: What did you notice after our last session?",
            "Client: That I was angry, actually.",
            "(pause)",
            "Therapist: Angry. Can you say more?",
        ],
    )
    s = read_session(path)
    assert s.format == "docx"
    assert [u.text for u in s.utterances] == [
        "What did you notice after our last session?",
        "That I was angry, actually. (pause)",
        "Angry. Can you say more?",
    ]
    assert s.utterances[0].line == 2


def test_teams_style_docx_speaker_line_then_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "teams.docx",
        [
            "Dr. Lee   0:03",
            "Hi, thanks for coming in.",
            "Robin   0:07",
            "Sure.",
            "I almost cancelled.",
            "Dr. Lee   0:15",
            "What made you almost cancel?",
        ],
    )
    s = read_session(path)
    assert [(u.speaker, u.text, u.start) for u in s.utterances] == [
        ("Dr. Lee", "Hi, thanks for coming in.", 3.0),
        ("Robin", "Sure. I almost cancelled.", 7.0),
        ("Dr. Lee", "What made you almost cancel?", 15.0),
    ]
    assert s.speaker("Dr. Lee").role is Role.THERAPIST


def test_docx_table_rows(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    rows = [("0:01", "T", "How are you?"), ("0:04", "C", "Okay."), ("0:06", "T", "Just okay?")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    path = tmp_path / "table.docx"
    document.save(str(path))
    s = read_session(path)
    assert [(u.speaker, u.start) for u in s.utterances] == [("T", 1.0), ("C", 4.0), ("T", 6.0)]


def test_docx_detected_by_content_not_extension(tmp_path: Path) -> None:
    path = _write(tmp_path / "export.bin", ["T: Hi.", "C: Hello."])
    assert detect_format(path) == "docx"


def test_damaged_docx_is_a_clean_error(tmp_path: Path) -> None:
    good = _write(tmp_path / "a.docx", ["T: Hi.", "C: Hello."]).read_bytes()
    bad = tmp_path / "b.docx"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(TranscriptError, match=r"b\.docx: not a valid DOCX"):
        read_session(bad)
