from __future__ import annotations

from pathlib import Path

import pytest

from attunement.errors import AttunementError
from attunement.report.outputs import expand_inputs, output_stem, resolve_target, unique_names


def test_resolve_target(tmp_path: Path) -> None:
    assert resolve_target("--json", "-", 3).kind == "stdout"
    assert resolve_target("--html", str(tmp_path), 1).kind == "folder"
    assert resolve_target("--html", str(tmp_path / "new") + "/", 1).kind == "folder"
    assert resolve_target("--html", str(tmp_path / "out"), 1).kind == "folder"
    one = resolve_target("--html", str(tmp_path / "r.html"), 1)
    assert one.kind == "file" and one.file_for("x", ".html") == tmp_path / "r.html"
    many = resolve_target("--html", str(tmp_path / "reports.d"), 2)
    assert many.kind == "folder"
    assert many.file_for("a", ".html") == tmp_path / "reports.d" / "a.html"
    (tmp_path / "exists.html").write_text("x")
    with pytest.raises(AttunementError, match="need a folder"):
        resolve_target("--html", str(tmp_path / "exists.html"), 2)


def test_expand_inputs_folders(tmp_path: Path) -> None:
    (tmp_path / "b.vtt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "README.md").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    (tmp_path / "notes.pdf").write_text("x")
    sub = tmp_path / "series"
    sub.mkdir()
    (sub / "session-01.txt").write_text("x")
    (sub / "responses.csv").write_text("x")
    got = expand_inputs([tmp_path, Path("single.session.json")], ["txt", "vtt", "csv", "json"])
    root = tmp_path.name
    assert [n for _, n in got] == [
        f"{root}-a",
        f"{root}-b",
        f"{root}-series-session-01",
        "single",
    ]


def test_names_are_unique() -> None:
    assert unique_names(["a", "b", "A", "a"]) == ["a", "b", "A-2", "a-3"]
    assert output_stem(Path("x/y.vtt")) == "y"
