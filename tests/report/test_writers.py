from __future__ import annotations

import os
from pathlib import Path

import pytest
from report_fixtures import EVIL, coded_session

from attunement.errors import AttunementError
from attunement.model import Session
from attunement.report import WRITERS, get_writer, write_file
from attunement.report.json_ import JsonWriter
from attunement.report.markdown import MarkdownWriter, md_escape
from attunement.report.terminal import TerminalWriter
from attunement.report.view import cards, moments


def test_json_round_trip_pretty_and_compact() -> None:
    s = coded_session()
    for pretty in (True, False):
        text = JsonWriter(pretty=pretty).render(s)
        assert Session.model_validate_json(text) == s
        assert ('"schema_version": "attunement.session/1"' in text) is pretty
    assert JsonWriter(pretty=False).render(s).count("\n") == 1


def test_registry_builds_every_writer() -> None:
    for name in WRITERS:
        w = get_writer(name)
        assert w.name == name and w.suffix.startswith(".")
        assert w.render(coded_session())
    with pytest.raises(AttunementError, match="unknown writer"):
        get_writer("pdf")


def test_moments_and_cards() -> None:
    ms = moments(coded_session())
    kinds = [(m.utterance_id, m.kind, m.code) for m in ms]
    assert ("u0002", "marker", "C_PARAMETERS") in kinds
    assert ("u0003", "failure", "F_IGNORE") in kinds
    assert ("u0005", "repair", "R_INVITE") in kinds
    # empathy levels and behaviour are not "moments"
    assert all(m.code != "E_EXPLORATION" for m in ms)
    assert [c.analyzer for c in cards(coded_session())] == ["talk", "episodes"]


def test_terminal_summary_keeps_brackets_and_lists_episode() -> None:
    out = TerminalWriter(width=140).render(coded_session())
    assert "demo.txt" in out
    assert "Complaint about parameters" in out
    assert "[laughs]" in out  # transcript brackets are not eaten as rich markup
    assert "Episode e01" in out and "salience 4/5" in out
    assert "Therapist talk %: 48.2" in out
    assert "not diagnoses" in out
    assert "warning:" in out


def test_markdown_escapes_transcript_text() -> None:
    md = MarkdownWriter().render(coded_session())
    assert EVIL not in md
    assert "&lt;script" in md
    assert "| 0:09 | u0002 |" in md
    assert "### Episode e01" in md
    assert md_escape("a|b *c* <i>") == "a\\|b \\*c\\* &lt;i\\>"


def test_write_file_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    write_file(target, "one")
    write_file(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(tmp_path) == ["r.html"]
    with pytest.raises(FileNotFoundError):
        write_file(tmp_path / "missing" / "r.html", "x")
    assert os.listdir(tmp_path) == ["r.html"]


def test_every_json_field_is_documented() -> None:
    from attunement.model import (
        Annotation,
        Episode,
        Evidence,
        SessionMeta,
        Speaker,
        Suggestion,
        Utterance,
    )

    doc = (Path(__file__).parents[2] / "docs" / "json-output.md").read_text(encoding="utf-8")
    models = (Session, SessionMeta, Speaker, Utterance, Annotation, Episode, Evidence, Suggestion)
    missing = [
        f"{m.__name__}.{name}" for m in models for name in m.model_fields if f"`{name}`" not in doc
    ]
    assert not missing, missing
