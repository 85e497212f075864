"""Hostile and careless input, output side: CSP, control characters, markup injection,
temporary files after kill -9, all-or-nothing output sets, read-only targets."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_fixtures import coded_session

from attunement.cli.main import main
from attunement.errors import AttunementError
from attunement.model import Annotation, Episode, Evidence, Role, Session, Speaker, Utterance
from attunement.report import write_file
from attunement.report.base import write_files
from attunement.report.html import HtmlWriter
from attunement.report.markdown import MarkdownWriter
from attunement.report.outputs import expand_inputs
from attunement.report.sanitize import plain_text, safe_name, terminal_markup, terminal_text
from attunement.report.tempfiles import LEGACY_AGE, PREFIX, host_tag
from attunement.report.terminal import TerminalWriter

ANSI = "\x1b[2J\x1b]0;owned\x07\x1b[31m"
BIDI = "\u202e\u2066"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- CSP -----------------------------------------------------------------------------


class _Doc(HTMLParser):
    """Collects what a CSP check needs: head order, inline styles/scripts, attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.head: list[tuple[str, dict[str, str]]] = []
        self.in_head = False
        self.styles: list[str] = []
        self.scripts = 0
        self.bad_attrs: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "head":
            self.in_head = True
        elif self.in_head:
            self.head.append((tag, a))
        if tag == "style":
            self._in_style = True
            self.styles.append("")
        if tag == "script":
            self.scripts += 1
        for k, v in a.items():
            if k == "style" or k.startswith("on") or (k in ("src", "href") and "//" in v):
                self.bad_attrs.append(k)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles[-1] += data


def check_csp(html: str) -> str:
    """The CSP is the first element of <head>, strict, and allows every inline style."""
    doc = _Doc()
    doc.feed(html)
    tag, attrs = doc.head[0]
    assert tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    csp = attrs["content"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert "unsafe" not in csp and "http" not in csp and "script-src" not in directives
    assert doc.scripts == 0 and doc.bad_attrs == []
    assert doc.styles, "expected the inline stylesheet"
    for css in doc.styles:
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives["style-src"].split()
    return csp


def test_session_html_has_a_strict_csp_that_allows_its_own_stylesheet() -> None:
    html = HtmlWriter().render(coded_session())
    csp = check_csp(html)
    assert "base-uri 'none'" in csp and "form-action 'none'" in csp
    assert "<svg" in html and 'class="sw sw-t"' in html  # legend styled by class now


# --- control characters and markup --------------------------------------------------


def hostile_session() -> Session:
    bad = f"{ANSI}[bold red]X[/]{BIDI}<b>"
    speaker = f"Sam{ANSI}[blink]"
    return Session(
        id=f"s{ANSI}",
        source=f"week{ANSI}6.txt",
        format=f"text{ANSI}<img src=x>|*",
        speakers=[
            Speaker(id="Dr. Lee", role=Role.THERAPIST),
            Speaker(id=speaker, role=Role.CLIENT),
        ],
        utterances=[
            Utterance(id="u0001", index=0, speaker="Dr. Lee", role=Role.THERAPIST, text="Hi."),
            Utterance(
                id=f"u2{ANSI}",
                index=1,
                speaker=speaker,
                role=Role.CLIENT,
                text=f"I quit {bad} :smile:\nattune: all fine",
                annotations=[Annotation(code="W_MINIMAL", probability=0.9, source=f"x{ANSI}")],
            ),
        ],
        metrics={"talk": {"headline": {f"k{ANSI}": f"v{ANSI}[red]"}}},
        episodes=[
            Episode(
                id=f"e{ANSI}",
                kind="withdrawal",
                start_id="u0002",
                end_id="u0002",
                markers=[Evidence(utterance_id=f"u2{ANSI}", code="W_MINIMAL", quote=bad)],
                salience=3,
                resolution="unresolved",
                flags=[f"F{ANSI}[bold]"],
                summary=bad,
            )
        ],
        warnings=[f"warn {bad}"],
        provenance=[f"talk@1{ANSI}<i>"],
    )


def test_sanitize_functions() -> None:
    s = f"a{ANSI}b{BIDI}\tc\nd\x00\x85"
    shown = terminal_text(s)
    assert not RAW.search(shown) and "\\x1b[2J" in shown and "\\u202e" in shown
    assert "\\n" in shown and "\n" not in shown
    assert terminal_text("a\nb", keep_newlines=True) == "a\nb"
    assert terminal_markup("[bold]x[/]") == "\\[bold]x\\[/]"
    assert plain_text(s) == "ab\tc\nd"
    assert safe_name(f"..week{ANSI}/6{BIDI}") == "week_6__"
    assert safe_name("...") == "_"


def test_terminal_summary_escapes_controls_and_markup() -> None:
    out = TerminalWriter(width=200).render(hostile_session())
    assert not RAW.search(out)
    assert "\\x1b[2J" in out  # shown, so the reader sees something was there
    assert "[bold red]X[/]" in out and "[blink]" in out and "[bold]" in out
    assert "\\n" in out or "attune: all fine" not in out.splitlines()


def test_markdown_strips_controls_and_escapes_session_json_fields() -> None:
    md = MarkdownWriter().render(hostile_session())
    assert not RAW.search(md)
    assert "<img" not in md and "<b>" not in md and "<i>" not in md
    assert "- Format: text\\[31m&lt;img src=x\\>\\|\\*" not in md  # sequence removed whole
    assert "- Format: text&lt;img src=x\\>\\|\\*" in md
    assert "Analyzers: talk@1&lt;i\\>" in md
    assert "\\[bold red\\]X\\[/\\]" in md
    # one Markdown line per transcript turn: an embedded newline cannot start a new one
    assert not any(line.startswith("attune: all fine") for line in md.splitlines())


def test_cli_summary_and_output_names_from_hostile_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    name = f"week{ANSI}{BIDI}6.txt"
    (src / name).write_text(
        "Dr. Lee: How was the week [bold red]really[/]?\nSam: Fine :smile: I guess.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(
        ["analyze", str(src), "--analyzers", "talk", "--therapist", "Dr. Lee",
         "--json", str(out), "--markdown", str(out)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert not RAW.search(captured.out) and not RAW.search(captured.err)
    names = sorted(os.listdir(out))
    assert len(names) == 2 and not any(RAW.search(n) for n in names)
    assert all(not n.startswith(".") for n in names)
    for n, (_, stem) in zip(names, expand_inputs([src], ["txt"]), strict=False):
        assert n.startswith(stem) and not RAW.search(stem)


def test_cli_error_line_for_hostile_file_name_has_no_raw_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / f"x{ANSI}.txt"
    bad.write_bytes(b"\x00\x01binary")
    code = main(["analyze", str(bad), "--analyzers", "talk"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("attune: error:") and len(err.strip().splitlines()) == 1
    assert not RAW.search(err)


# --- temporary files ------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from attunement.report import base, tempfiles
    if sys.argv[2] == "named":
        tempfiles._anonymous_ok = False
    real_write = os.write
    def slow_write(fd, data):
        n = real_write(fd, data)
        print("writing", flush=True)
        time.sleep(60)
        return n
    os.write = slow_write
    base.write_file(sys.argv[1], '{"text": "' + "x" * 8_000_000 + '"}')
    """
)

_NEXT_RUN = "import sys; from attunement.report import write_file; write_file(sys.argv[1], 'new')"


def _ours(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(PREFIX)]


def _killed_mid_write(folder: Path, mode: str) -> list[str]:
    """Start a writer, kill -9 it mid-write; what of ours was visible while it wrote."""
    target = folder / "report.session.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target), mode], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        visible = _ours(folder)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert not target.exists()
    return visible


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="O_TMPFILE is Linux only")
def test_kill_9_mid_write_leaves_nothing_with_o_tmpfile(tmp_path: Path) -> None:
    visible = _killed_mid_write(tmp_path, "anonymous")
    assert visible == []  # nothing was ever visible while it wrote
    assert os.listdir(tmp_path) == []


def test_kill_9_mid_write_named_temp_is_removed_by_the_next_run(tmp_path: Path) -> None:
    visible = _killed_mid_write(tmp_path, "named")
    assert len(visible) == 1 and (tmp_path / visible[0]).stat().st_size > 0
    subprocess.run([sys.executable, "-c", _NEXT_RUN, str(tmp_path / "other.md")], check=True)
    assert sorted(os.listdir(tmp_path)) == ["other.md"]


def test_stale_cleanup_keeps_live_foreign_and_unrelated_files(tmp_path: Path) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        tag = host_tag()
        keep = [
            f"{PREFIX}{tag}-{live.pid}-abc.tmp",  # a live writer
            f"{PREFIX}0000beef-{dead.pid}-abc.tmp",  # another host's
            ".week6.html.abcd1234.tmp",  # an earlier version's, but recent
            ".notes.abcd1234.tmp",  # not ours
        ]
        gone = [f"{PREFIX}{tag}-{dead.pid}-abc.tmp", ".week5.session.json.k2j9x_1a.tmp"]
        for n in [*keep, *gone]:
            (tmp_path / n).write_text("session")
        old = time.time() - LEGACY_AGE - 60
        os.utime(tmp_path / gone[1], (old, old))
        os.utime(tmp_path / keep[3], (old, old))
        subprocess.run([sys.executable, "-c", _NEXT_RUN, str(tmp_path / "r.md")], check=True)
        assert sorted(os.listdir(tmp_path)) == sorted([*keep, "r.md"])
    finally:
        live.kill()
        live.wait()


# --- read-only targets and modes ------------------------------------------------------


def test_read_only_output_is_refused_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(AttunementError, match="read-only") as info:
        write_file(target, "new")
    assert info.value.where == str(target)
    assert target.read_text() == "old" and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert os.listdir(tmp_path) == ["r.html"]


def test_replace_keeps_the_mode_and_new_files_are_private(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    target.write_text("old")
    target.chmod(0o640)
    write_file(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = write_file(tmp_path / "n.md", "x")
    assert stat.S_IMODE(fresh.stat().st_mode) & 0o077 == 0


def test_cli_analyze_read_only_output_is_one_line_and_no_partial_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "week6.txt"
    src.write_text("Dr. Lee: Hello.\nSam: Hi.\n", encoding="utf-8")
    html = tmp_path / "week6.html"
    html.write_text("old")
    html.chmod(0o444)
    code = main(
        ["analyze", str(src), "--analyzers", "talk", "--therapist", "Dr. Lee", "-q",
         "--json", str(tmp_path / "week6.session.json"), "--html", str(html)]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "read-only" in err and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == ["week6.html", "week6.txt"]  # no JSON, no temp
    assert html.read_text() == "old"


# --- all-or-nothing sets --------------------------------------------------------------


def test_write_files_failure_leaves_no_new_file(tmp_path: Path) -> None:
    kept = tmp_path / "a.json"
    kept.write_text("old a")
    with pytest.raises(FileNotFoundError):
        write_files([(kept, "new a"), (tmp_path / "b.html", "b"), (tmp_path / "no/c", "c")])
    assert sorted(os.listdir(tmp_path)) == ["a.json"] and kept.read_text() == "old a"
    write_files([(kept, "new a"), (tmp_path / "b.html", "b")])
    assert kept.read_text() == "new a" and (tmp_path / "b.html").read_text() == "b"


def test_write_files_refuses_one_file_named_twice(tmp_path: Path) -> None:
    with pytest.raises(AttunementError, match="same file"):
        write_files([(tmp_path / "x", "1"), (tmp_path / "." / "x", "2")])
    assert os.listdir(tmp_path) == []
