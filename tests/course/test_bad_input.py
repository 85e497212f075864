"""Bad client folders fail with the project's errors, naming file and record."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from attunement.course import run_course
from attunement.errors import MeasureError, SchemaError
from attunement.model import Role, Session, Speaker, Utterance


def test_impossible_score_names_file_and_row(client_copy: Callable[..., Path]) -> None:
    folder = client_copy("forgotten-appointment")
    with (folder / "responses.csv").open("a", encoding="utf-8") as fh:
        fh.write("18,2026-05-18,phq9,phq9_1,9\n")  # line 377: header + 375 records + this
    with pytest.raises(MeasureError, match=r"responses.csv, row 377: .*not a response option"):
        run_course(folder, transcripts=False)


def test_dates_out_of_order(client_copy: Callable[..., Path]) -> None:
    folder = client_copy("forgotten-appointment")
    with (folder / "responses.csv").open("a", encoding="utf-8") as fh:
        fh.write("18,2026-01-01,phq9,phq9_1,1\n")
    with pytest.raises(MeasureError, match="out of order"):
        run_course(folder, transcripts=False)


def test_bad_client_toml_names_field(client_copy: Callable[..., Path]) -> None:
    folder = client_copy("forgotten-appointment", toml_edit='sensitivity = "extreme"')
    with pytest.raises(SchemaError, match=r"client.toml: field sensitivity"):
        run_course(folder, transcripts=False)


def test_unknown_event_kind(client_copy: Callable[..., Path]) -> None:
    folder = client_copy("forgotten-appointment")
    toml = folder / "client.toml"
    toml.write_text(toml.read_text().replace('"therapist_missed"', '"therapist_late"'))
    with pytest.raises(SchemaError, match=r"events\.0\.kind"):
        run_course(folder, transcripts=False)


def _session(n: int) -> str:
    s = Session(
        id=f"s{n}",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[Utterance(id="u0001", index=0, speaker="C", role=Role.CLIENT, text="hello")],
    )
    s.meta.session_number = n
    return s.model_dump_json()


def test_duplicate_transcript_session_numbers(tmp_path: Path) -> None:
    t = tmp_path / "transcripts"
    t.mkdir()
    (t / "a.session.json").write_text(_session(3))
    (t / "b.session.json").write_text(_session(3))
    with pytest.raises(MeasureError, match="duplicate session number 3"):
        run_course(tmp_path, analyze=False)


def test_bad_session_json_is_a_schema_error(tmp_path: Path) -> None:
    t = tmp_path / "transcripts"
    t.mkdir()
    (t / "x.session.json").write_text(json.dumps({"id": "x"}))
    with pytest.raises(SchemaError, match=r"x\.session\.json"):
        run_course(tmp_path, analyze=False)


def test_empty_folder_gives_an_empty_course_with_a_warning(tmp_path: Path) -> None:
    course = run_course(tmp_path)
    assert course.sessions == [] and course.episodes == []
    assert course.dropout.level == "low"
    assert any("no responses" in w for w in course.warnings)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(MeasureError, match="not a folder"):
        run_course(tmp_path / "nope")


def test_plain_text_transcripts_are_read_and_numbered_from_the_file_name(tmp_path: Path) -> None:
    pytest.importorskip("attunement.io")
    (tmp_path / "client.toml").write_text('client_id = "c1"\ntherapists = ["Dr. Lee"]\n')
    t = tmp_path / "transcripts"
    t.mkdir()
    (t / "session-04.txt").write_text("Dr. Lee: How are you?\nSam: Fine.\n", encoding="utf-8")
    course = run_course(tmp_path, analyze=False)
    (rec,) = course.sessions
    assert rec.number == 4 and rec.transcript == "session-04.txt"
