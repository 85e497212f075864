"""Client report writers: versioned JSON, self-contained escaped HTML, terminal summary."""

import io
import re
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from attunement.course import CLIENT_SCHEMA_VERSION, ClientCourse, run_course
from attunement.report.client import (
    course_json,
    render_html,
    render_terminal,
    write_html,
    write_json,
)

EXAMPLES = Path(__file__).parents[2] / "src/attunement/examples/clients"


def test_json_is_versioned_and_round_trips(tmp_path: Path) -> None:
    course = run_course(EXAMPLES / "forgotten-appointment", transcripts=False)
    text = course_json(course)
    assert f'"schema_version": "{CLIENT_SCHEMA_VERSION}"' in text
    assert ClientCourse.model_validate_json(text) == course
    out = write_json(course, tmp_path / "c.json")
    assert out.read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temp files left


def test_html_is_self_contained_and_escapes_client_text(client_copy: Callable[..., Path]) -> None:
    folder = client_copy("forgotten-appointment")
    with (folder / "responses.csv").open("a", encoding="utf-8") as fh:
        fh.write(
            '18,2026-05-18,rupture_check,tension,0\n18,2026-05-18,rupture_check,note,"<script>alert(1)</script>"\n'
        )
    course = run_course(folder, transcripts=False)
    html = render_html(course)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<svg") == 4
    urls = set(re.findall(r"(?:src|href)=\"([^\"]+)\"", html))
    assert not any(u.startswith(("http", "//")) for u in urls)
    assert "therapist-missed appointment on 2026-03-02" in html
    assert "enhanced" in html


def test_write_html_atomic(tmp_path: Path) -> None:
    course = run_course(EXAMPLES / "cant-afford-it", analyze=False)
    path = write_html(course, tmp_path / "r.html")
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_terminal_summary_lists_alerts_with_reasons() -> None:
    course = run_course(EXAMPLES / "cant-afford-it", analyze=False)
    buf = io.StringIO()
    render_terminal(course, Console(file=buf, width=120, color_system=None))
    text = buf.getvalue()
    assert "Dropout warning signs: high" in text
    assert "termination talk" in text
    assert "HIGH" in text
