"""Hostile and careless client folders: transcripts outside the folder, partial output
sets, read-only outputs, control characters in the terminal, the client report's CSP."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.course import run_course
from attunement.errors import MeasureError
from attunement.report.client import render_html

TRANSCRIPT = "Dr. Lee: How was the week?\nSam: Hard. I nearly did not come.\n"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def make_client(root: Path, toml_extra: str = "", transcripts: bool = True) -> Path:
    folder = root / "client"
    folder.mkdir(parents=True)
    (folder / "client.toml").write_text(
        f'client_id = "C-1"\ntherapists = ["Dr. Lee"]\n{toml_extra}\n', encoding="utf-8"
    )
    rows = ["session,date,instrument,item,value"]
    for n, day in ((1, "2026-01-05"), (2, "2026-01-12")):
        rows += [f"{n},{day},phq9,phq9_{i},{(i + n) % 3}" for i in range(1, 10)]
    (folder / "responses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    if transcripts:
        (folder / "transcripts").mkdir()
        (folder / "transcripts" / "session-1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    return folder


def outside(root: Path) -> Path:
    other = root / "elsewhere"
    other.mkdir()
    (other / "session-2.txt").write_text(TRANSCRIPT, encoding="utf-8")
    return other


def _one_line_error(code: int, err: str) -> str:
    assert code == 2
    line = err.strip()
    assert line.startswith("attune: error:") and len(line.splitlines()) == 1
    return line


def test_transcripts_etc_is_refused_naming_the_field_not_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_client(tmp_path, 'transcripts = "/etc"', transcripts=False)
    out = tmp_path / "c.json"
    line = _one_line_error(
        main(["client", str(folder), "--json", str(out)]), capsys.readouterr().err
    )
    assert "client.toml, field transcripts" in line and "--allow-outside-transcripts" in line
    assert "/etc" not in line
    assert not out.exists()


def test_relative_path_out_of_the_folder_needs_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside(tmp_path)
    folder = make_client(tmp_path, 'transcripts = "../elsewhere"', transcripts=False)
    with pytest.raises(MeasureError, match="inside the client folder"):
        run_course(folder, analyze=False)
    course = run_course(folder, analyze=False, allow_outside_transcripts=True)
    assert [s.number for s in course.sessions if s.transcript] == [2]
    out = tmp_path / "c.json"
    args = ["client", str(folder), "--json", str(out)]
    assert main(args) == 2 and not out.exists()
    capsys.readouterr()
    assert main([*args, "--allow-outside-transcripts"]) == 0 and out.exists()


def test_unusable_transcripts_values_are_user_errors(tmp_path: Path) -> None:
    folder = make_client(tmp_path, f'transcripts = "{"t" * 300}"', transcripts=False)
    with pytest.raises(MeasureError) as info:  # too long for the file system: not an OSError
        run_course(folder, analyze=False)
    assert info.value.where == "client.toml, field transcripts"
    loop = make_client(tmp_path / "loop", 'transcripts = "a"', transcripts=False)
    (loop / "a").symlink_to(loop / "b")
    (loop / "b").symlink_to(loop / "a")
    with pytest.raises(MeasureError) as info:
        run_course(loop, analyze=False)
    assert info.value.where == "client.toml, field transcripts"


def test_ignored_transcripts_are_not_checked(tmp_path: Path) -> None:
    folder = make_client(tmp_path, 'transcripts = "/etc"', transcripts=False)
    course = run_course(folder, transcripts=False)
    assert len(course.sessions) == 2


def test_a_subfolder_is_fine(tmp_path: Path) -> None:
    folder = make_client(tmp_path, 'transcripts = "notes/sessions"', transcripts=False)
    (folder / "notes" / "sessions").mkdir(parents=True)
    (folder / "notes" / "sessions" / "session-1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    course = run_course(folder, analyze=False)
    assert [s.number for s in course.sessions if s.transcript] == [1]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_transcripts_folder_or_file_pointing_out_is_refused(tmp_path: Path) -> None:
    other = outside(tmp_path)
    folder = make_client(tmp_path, transcripts=False)
    (folder / "transcripts").symlink_to(other, target_is_directory=True)
    with pytest.raises(MeasureError) as info:
        run_course(folder, analyze=False)
    assert info.value.where == "transcripts folder"

    folder2 = make_client(tmp_path / "two")
    (folder2 / "transcripts" / "session-2.txt").symlink_to(other / "session-2.txt")
    with pytest.raises(MeasureError) as info:
        run_course(folder2, analyze=False)
    assert info.value.where == "session-2.txt"
    course = run_course(folder2, analyze=False, allow_outside_transcripts=True)
    assert len([s for s in course.sessions if s.transcript]) == 2


def test_client_outputs_are_all_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_client(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    j, h, f = out / "c.json", out / "c.html", out / "c.fhir.json"
    f.write_text("old bundle")
    f.chmod(0o444)
    args = ["client", str(folder), "--json", str(j), "--html", str(h), "--fhir", str(f)]
    line = _one_line_error(main(args), capsys.readouterr().err)
    assert "read-only" in line and str(f) in line
    assert sorted(os.listdir(out)) == ["c.fhir.json"] and f.read_text() == "old bundle"

    f.chmod(0o644)
    missing = tmp_path / "no-such-folder" / "c.html"
    args = ["client", str(folder), "--json", str(j), "--html", str(missing)]
    line = _one_line_error(main(args), capsys.readouterr().err)
    assert line.startswith("attune: error: --html: cannot write the output")
    assert sorted(os.listdir(out)) == ["c.fhir.json"]

    assert main(["client", str(folder), "--json", str(j), "--html", str(h), "--fhir", str(f)]) == 0
    assert sorted(os.listdir(out)) == ["c.fhir.json", "c.html", "c.json"]
    assert f.read_text() != "old bundle"


def test_client_render_failure_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import attunement.report.client as client_reports

    def broken(course: object) -> str:
        raise MeasureError("cannot render", where="--html")

    monkeypatch.setattr(client_reports, "render_html", broken)
    folder = make_client(tmp_path)
    j, h = tmp_path / "c.json", tmp_path / "c.html"
    line = _one_line_error(
        main(["client", str(folder), "--json", str(j), "--html", str(h)]),
        capsys.readouterr().err,
    )
    assert "cannot render" in line
    assert not j.exists() and not h.exists()


def test_client_error_line_for_a_hostile_transcript_name_has_no_raw_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_client(tmp_path)
    # one speaker only: the reader refuses the file, and the error names it
    (folder / "transcripts" / "session-2\x1b]0;owned\x07[bold]\u202e.txt").write_text(
        "Dr. Lee: Anyone there?\n", encoding="utf-8"
    )
    line = _one_line_error(main(["client", str(folder)]), capsys.readouterr().err)
    assert not RAW.search(line) and "\\x1b]0;owned\\x07[bold]\\u202e" in line


def test_client_terminal_shows_escapes_and_markup_visibly(tmp_path: Path) -> None:
    from rich.console import Console

    from attunement.report.client import render_terminal

    course = run_course(make_client(tmp_path), analyze=False)
    course.warnings.append("odd \x1b[2J[bold]note[/]\u202e\nattune: all fine")
    buf = io.StringIO()
    render_terminal(course, Console(file=buf, width=200, emoji=False))
    out = buf.getvalue()
    assert not RAW.search(out)
    assert "odd \\x1b[2J[bold]note[/]\\u202e\\nattune: all fine" in out


def test_client_html_csp_allows_only_its_stylesheet(tmp_path: Path) -> None:
    html = render_html(run_course(make_client(tmp_path), analyze=False))
    head = html.split("<head>", 1)[1].lstrip()
    assert head.startswith('<meta http-equiv="Content-Security-Policy" content="')
    csp = head.split('content="', 1)[1].split('"', 1)[0]
    assert csp.startswith("default-src 'none';") and "unsafe" not in csp
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and "<script" not in html and " style=" not in html
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}';" in csp


def test_unlistable_transcripts_folder_is_a_user_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_client(tmp_path)
    real_iterdir = Path.iterdir

    def refuse(self: Path):  # type: ignore[no-untyped-def]
        if self.name == "transcripts":
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", refuse)
    line = _one_line_error(main(["client", str(folder)]), capsys.readouterr().err)
    assert "cannot list the transcripts folder (Permission denied)" in line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_client_summary_to_a_full_disk_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = make_client(tmp_path, transcripts=False)
    out = tmp_path / "c.json"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from attunement.cli.main import run; run()",
                "client",
                str(folder),
                "--json",
                str(out),
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "attune: error: stdout: cannot write to standard output (No space left on device)"
    ]
    assert not out.exists()
