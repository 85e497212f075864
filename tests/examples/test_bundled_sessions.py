"""The bundled example sessions read cleanly and have the shape the README promises."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from attunement.model import Role

io = pytest.importorskip("attunement.io", reason="transcript readers (attunement.io) not built")

ROOT = Path(str(resources.files("attunement") / "examples" / "sessions"))
#: transcripts only: the client engine may add ``responses.*`` / ``client.toml`` beside them
FILES = sorted(
    p
    for p in ROOT.rglob("*")
    if p.is_file() and p.suffix != ".md" and not p.name.startswith(("responses.", "client."))
)


def test_enough_examples_in_several_formats() -> None:
    assert len(FILES) >= 6
    assert {p.suffix for p in FILES} >= {".txt", ".vtt", ".srt", ".csv", ".json"}
    names = {p.name for p in FILES}
    assert any(n.startswith("cheerful-goodbye.") for n in names)
    assert any(n.startswith("cheerful-goodbye-missed.") for n in names)
    series = sorted((ROOT / "forgotten-appointment").glob("session-*"))
    assert 5 <= len(series) <= 6
    assert (ROOT.parent / "README.md").is_file()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_reads_with_both_roles(path: Path) -> None:
    s = io.read_session(path)
    roles = {u.role for u in s.utterances}
    assert roles == {Role.THERAPIST, Role.CLIENT}
    assert 40 <= len(s.utterances) <= 120
    assert all(u.start is not None for u in s.utterances)
    assert not s.warnings


def test_three_speaker_sessions() -> None:
    for name in ("couples-evenings.csv", "family-curfew.vtt"):
        s = io.read_session(ROOT / name)
        assert len(s.speakers) == 3
        assert len(s.by_role(Role.THERAPIST)) > 0
        assert sum(sp.role is Role.CLIENT for sp in s.speakers) == 2


def test_docx_version_reads_like_the_text(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx", reason="python-docx not installed")
    text = (ROOT / "cheerful-goodbye.txt").read_text(encoding="utf-8")
    doc = docx.Document()
    for line in text.splitlines():
        doc.add_paragraph(line)
    out = tmp_path / "cheerful-goodbye.docx"
    doc.save(str(out))
    a, b = io.read_session(out), io.read_session(ROOT / "cheerful-goodbye.txt")
    assert a.format == "docx"
    assert [(u.speaker, u.text, u.start) for u in a.utterances] == [
        (u.speaker, u.text, u.start) for u in b.utterances
    ]
