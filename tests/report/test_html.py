from __future__ import annotations

from html.parser import HTMLParser

from report_fixtures import EVIL, coded_session, long_session

from attunement.report import get_writer
from attunement.report.html import HtmlWriter
from attunement.report.svg import metrics_svg, timeline_svg


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        self.tags.append((tag, d))
        if d.get("id"):
            self.ids.add(str(d["id"]))


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    p.close()
    return p


def test_html_is_self_contained_and_escaped() -> None:
    html = HtmlWriter().render(coded_session())
    tags = _parse(html)
    names = [t for t, _ in tags.tags]
    assert "script" not in names
    assert "link" not in names
    assert "iframe" not in names and "img" not in names
    for _, attrs in tags.tags:
        for key in ("src", "href", "action"):
            value = attrs.get(key) or ""
            assert not value.startswith(("http://", "https://", "//")), value
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Sam <b>" not in html and "Sam &lt;b&gt;" in html


def test_html_has_charts_episode_evidence_and_footer() -> None:
    s = coded_session()
    html = HtmlWriter().render(s)
    tags = _parse(html)
    assert html.count("<svg") == 2
    assert {"u0001", "u0002", "e01"} <= tags.ids
    # evidence links to the transcript and quotes the words
    assert 'href="#u0002"' in html
    assert "I can&#39;t afford this anymore" in html
    assert "Partially resolved".lower() in html.lower()
    assert "salience 4/5" in html
    assert "Ask what ending means." in html
    # chips use codebook labels with the probability as tooltip
    assert "Complaint about parameters" in html
    assert "C_PARAMETERS · p=0.91" in html
    assert "Exploration (strong)" in html
    # cards from every headline; analyzers without a headline are skipped
    assert "Therapist talk %" in html and "nohead" not in html
    assert "coding@1" in html
    assert "contains protected health information" in html
    assert "not diagnoses" in html


def test_html_without_timestamps_uses_turn_axis() -> None:
    html = get_writer("html").render(coded_session(timed=False))
    assert ">turn</text>" in html
    assert html.count("<svg") == 2


def test_metrics_chart_absent_without_features() -> None:
    s = coded_session()
    for u in s.utterances:
        u.features = {}
    assert metrics_svg(s) is None
    assert HtmlWriter().render(s).count("<svg") == 1


def test_timeline_marks_moments_and_episodes() -> None:
    svg = timeline_svg(coded_session())
    assert 'class="ep"' in svg  # episode span
    assert 'class="gx"' in svg  # failure glyph
    assert 'class="gr"' in svg  # repair glyph
    assert 'class="gc"' in svg and 'class="gw"' in svg  # confrontation and withdrawal
    assert "Sam &lt;b&gt;" in svg


def test_long_session_report_stays_reasonable_in_size() -> None:
    s = long_session()
    html = HtmlWriter().render(s)
    per_turn = len(html.encode()) / len(s.utterances)
    assert per_turn < 1200, per_turn
    assert f'id="u{len(s.utterances):04d}"' in html
