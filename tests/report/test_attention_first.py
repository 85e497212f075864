"""Every session report opens with what needs the clinician's attention, then the detail."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

from markupsafe import escape
from report_fixtures import coded_session
from rich.console import Console

from attunement.course import ClientCourse, run_course
from attunement.model import Evidence, Session
from attunement.report.client import render_html, render_terminal
from attunement.report.html import HtmlWriter
from attunement.report.markdown import MarkdownWriter
from attunement.report.terminal import TerminalWriter
from attunement.report.view import attention


def _two_episodes() -> Session:
    """e01 left unresolved (open, flagged); e02 repaired in the session."""
    s = coded_session()
    open_ep = s.episodes[0].model_copy(update={"resolution": "unresolved", "salience": 3})
    repaired = open_ep.model_copy(
        update={
            "id": "e02",
            "start_id": "u0004",
            "end_id": "u0006",
            "resolution": "resolved",
            "salience": 5,
            "flags": [],
            "summary": "A quiet withdrawal, repaired.",
            "markers": [
                Evidence(
                    utterance_id="u0004",
                    code="W_MINIMAL",
                    quote="Sure.",
                    timestamp="0:30",
                    speaker="Sam <b>",
                )
            ],
            "suggestions": [],
        }
    )
    # the repaired one first in session order: the report must still lead with e01
    return s.model_copy(update={"episodes": [repaired, open_ep]})


def _section(html: str, section_id: str) -> str:
    m = re.search(rf'<section id="{section_id}"[^>]*>(.*?)</section>', html, re.S)
    assert m, section_id
    return m.group(1)


def test_view_orders_open_before_partial_and_keeps_repaired_apart() -> None:
    s = _two_episodes()
    partial = s.episodes[1].model_copy(
        update={"id": "e03", "resolution": "partially_resolved", "flags": [], "salience": 5}
    )
    flagged_but_resolved = s.episodes[0].model_copy(
        update={"id": "e04", "resolution": "resolved", "flags": ["ESCALATE"]}
    )
    s = s.model_copy(update={"episodes": [*s.episodes, partial, flagged_but_resolved]})
    att = attention(s)
    # open first, then flagged (even if repaired), then by salience
    assert [e.id for e in att.episodes] == ["e01", "e04", "e03"]
    assert [e.id for e in att.repaired] == ["e02"]


def test_html_opens_with_the_open_episode_and_its_evidence() -> None:
    html = HtmlWriter().render(_two_episodes())
    first = html.index('<section id="attention"')
    assert first < html.index('<section id="metrics"') < html.index('<section id="timeline"')
    assert first < html.index('<section id="moments"') < html.index('<section id="episodes"')
    assert "Needs your attention" in html[first : html.index('<section id="metrics"')]
    box = _section(html, "attention")
    # the open episode in full: kind, salience, flag, marker evidence with timestamp and
    # speaker, what preceded it, the suggested repair move
    assert 'id="e01"' in box and "mixed rupture at 0:09" in box
    assert "salience 3/5" in box and "open: unresolved" in box and "termination risk" in box
    assert '<a href="#u0002">0:09</a> Sam &lt;b&gt;' in box
    assert "Complaint about parameters (0.91)" in box
    assert "I can&#39;t afford this anymore" in box
    assert "What preceded it" in box and "Let&#39;s talk about the invoice." in box
    assert "Suggested repair moves" in box and "Ask what ending means." in box
    # the repaired episode is not in the attention list but folded further down
    assert 'id="e02"' not in box
    repaired = _section(html, "episodes")
    assert '<details class="episode resolved" id="e02">' in repaired
    assert "A quiet withdrawal, repaired." in repaired
    assert html.count('id="e01"') == 1 and html.count('id="e02"') == 1


def test_html_calm_line_when_nothing_needs_attention() -> None:
    s = _two_episodes()
    calm = s.model_copy(update={"episodes": [s.episodes[0]]})  # only the repaired one
    box = _section(HtmlWriter().render(calm), "attention")
    assert 'class="calm"' in box
    assert "Nothing needs your attention" in box and "1 rupture episode found were" in box
    assert "<article" not in box

    none = s.model_copy(update={"episodes": []})
    assert "no rupture episodes were found" in _section(HtmlWriter().render(none), "attention")

    not_run = none.model_copy(update={"metrics": {"talk": s.metrics["talk"]}})
    box = _section(HtmlWriter().render(not_run), "attention")
    assert "the episodes analyzer did not run" in box
    assert "Nothing needs your attention" not in box


def test_html_csp_hash_follows_the_stylesheet() -> None:
    html = HtmlWriter().render(_two_episodes())
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    assert css is not None and ".calm{" in css.group(1)
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in html
    assert "<script" not in html.lower() and " style=" not in html


def test_markdown_leads_with_attention() -> None:
    md = MarkdownWriter(transcript=False).render(_two_episodes())
    att, metrics = md.index("## Needs your attention"), md.index("## Metrics")
    assert att < metrics < md.index("## Coded moments") < md.index("## Rupture episodes repaired")
    head = md[att:metrics]
    assert "### Episode e01: mixed at 0:09, salience 3/5, open: unresolved" in head
    assert "0:09 (u0002) Complaint about parameters (0.91)" in head
    assert "What preceded it" in head and "Ask what ending means." in head
    assert "e02" not in head
    assert "- Episode e02: mixed at 0:30, salience 5/5, resolved" in md[metrics:]

    calm = MarkdownWriter(transcript=False).render(
        _two_episodes().model_copy(update={"episodes": []})
    )
    assert "Nothing needs your attention" in calm
    assert calm.index("Nothing needs your attention") < calm.index("## Metrics")


def test_terminal_leads_with_attention() -> None:
    out = TerminalWriter(width=140).render(_two_episodes())
    att = out.index("Needs your attention")
    assert att < out.index("Episode e01") < out.index("Therapist talk %")
    assert out.index("Therapist talk %") < out.index("Repaired in the session")
    assert out.index("Repaired in the session") < out.index("Episode e02")
    assert "marker 0:09 Sam <b> Complaint about parameters" in out
    assert "suggestion (Invites discussion of the relationship): Ask what ending means." in out


# --- the client (course) report ---------------------------------------------------------

EXAMPLES = Path(__file__).parents[2] / "src/attunement/examples/clients"


def _course(name: str) -> ClientCourse:
    return run_course(EXAMPLES / name, transcripts=False)


def test_client_html_opens_with_alerts_and_open_episodes() -> None:
    course = _course("cant-afford-it")
    html = render_html(course)
    box = _section(html, "attention")
    start = html.index('<section id="attention"')
    assert start < html.index("<h2>Over sessions</h2>") < html.index("<svg")
    assert html.index("<svg") > html.index("</section>", start)  # charts come after it
    high = [a for a in course.alerts if a.priority == "high"]
    assert high, "the example should raise high-priority alerts"
    for a in high:  # each with its reasons, in the library's words
        assert str(escape(a.text)) in box
        assert all(str(escape(r)) in box for r in a.reasons)
    (ep,) = [e for e in course.episodes if e.state == "working_through"]
    assert f"{ep.id} <span" in box and "working through" in box
    assert all(str(escape(t.what)) in box for t in ep.timeline)  # its evidence
    assert "1 open episode under" in html[html.index("<h2>Rupture episodes</h2>") :]
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    assert css is not None and ".calm" in css.group(1)
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in html


def test_client_html_calm_when_everything_settled() -> None:
    course = _course("forgotten-appointment")
    assert all(a.priority == "low" for a in course.alerts)
    html = render_html(course)
    box = _section(html, "attention")
    assert 'class="calm"' in box and "the 1 rupture episode across sessions was resolved" in box
    assert 'class="alert' not in box
    settled = html.index("<h2>Settled or settling</h2>")
    assert html.index("<h2>Over sessions</h2>") < settled < html.index("<h2>Rupture episodes</h2>")
    assert "therapist-missed appointment on 2026-03-02" in html[settled:]
    assert "state-enhanced" in html[html.index("<h2>Rupture episodes</h2>") :]


def test_client_terminal_leads_with_attention() -> None:
    buf = io.StringIO()
    render_terminal(_course("cant-afford-it"), Console(file=buf, width=140, color_system=None))
    text = buf.getvalue()
    att = text.index("Needs your attention")
    assert (
        att
        < text.index("HIGH")
        < text.index("Rupture episodes still open")
        < text.index("Measures")
    )
    buf = io.StringIO()
    render_terminal(_course("forgotten-appointment"), Console(file=buf, width=140))
    text = buf.getvalue()
    assert text.index("Nothing needs your attention") < text.index("Measures")
    assert text.index("Measures") < text.index("Settled or settling") < text.index("LOW")
