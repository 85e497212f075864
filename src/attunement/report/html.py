"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network).

It opens with what needs the clinician's attention (:func:`attunement.report.view.attention`:
open and flagged rupture episodes with their evidence, what preceded them and the
suggested repair moves), then the metric cards, timeline, coded moments, the episodes
repaired in the session (folded, in ``<details>``) and the transcript.

The first thing in ``<head>`` is a Content-Security-Policy that allows nothing but the
one inline stylesheet, by its SHA-256 computed at render time (``templates/report.css``):
no script runs, nothing loads, no form posts, even if some text slipped through unescaped.
The template therefore has no ``style=`` attributes (the policy would block them).

Rendered with jinja2 with autoescaping ON: transcript text is untrusted input (a caption
file can contain anything) and must never become markup. The only strings marked safe
are the SVG charts, which :mod:`attunement.report.svg` builds with every text escaped.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup, escape

from attunement import __version__
from attunement.model import Session, default_codebook
from attunement.report.base import Writer, style_policy
from attunement.report.svg import metrics_svg, timeline_svg
from attunement.report.view import (
    DISCLAIMER,
    MIN_PROBABILITY,
    PHI_NOTICE,
    attention,
    cards,
    code_label,
    duration_text,
    episode_status,
    group_evidence,
    meta_items,
    moments,
    speakers_line,
)

if TYPE_CHECKING:
    import jinja2

#: CSS class per codebook family, for chips and transcript highlights
FAMILY_CLASS = {
    "withdrawal": "w",
    "confrontation": "cf",
    "client_flag": "fl",
    "empathy": "em",
    "resolution": "rp",
    "failure": "fa",
    "behaviour": "bh",
}


@cache
def _template() -> jinja2.Template:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("attunement.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2")


@cache
def _css() -> str:
    return files("attunement.report").joinpath("templates/report.css").read_text("utf-8")


def _transcript(session: Session) -> Markup:
    """The transcript as HTML list items, built here rather than in the template because
    a 3-hour session has thousands of turns and this is ~5x faster than a jinja loop.
    Every value goes through ``markupsafe.escape``."""
    parts = []
    for r in _utterance_rows(session):
        hl = f" hl-{r['hl']}" if r["hl"] else ""
        chips = "".join(
            f'<span class="chip {c["cls"]}" title="{escape(c["tip"])}">{escape(c["label"])}</span>'
            for c in r["chips"]
        )
        parts.append(
            f'<li class="u {r["role"]}{hl}" id="{escape(r["id"])}">'
            f'<span class="at">{escape(r["at"] or r["id"])}</span>'
            f'<span class="who">{escape(r["speaker"])}</span>'
            f"<div>{escape(r['text'])}{f'<div>{chips}</div>' if chips else ''}</div></li>"
        )
    return Markup("\n".join(parts))


def _utterance_rows(session: Session) -> list[dict[str, Any]]:
    """Per utterance: chips (label, family class, tooltip) and the highlight class."""
    cb = default_codebook()
    info = {c.id: (c.label, c.family) for c in cb.code}
    rows = []
    for u in session.utterances:
        chips = []
        highlight = ""
        for a in u.codes(MIN_PROBABILITY):
            label, family = info.get(a.code, (a.code, "other"))
            if a.level:
                label = f"{label} ({a.level})"
            chips.append(
                {
                    "label": label,
                    "cls": FAMILY_CLASS.get(family, "bh"),
                    "tip": f"{a.code} · p={a.probability:.2f} · {a.source}",
                }
            )
            if family in ("withdrawal", "confrontation", "failure", "resolution"):
                highlight = highlight or FAMILY_CLASS[family]
        rows.append(
            {
                "id": u.id,
                "at": u.timestamp(),
                "speaker": u.speaker,
                "role": "t" if u.is_therapist else "c",
                "text": u.text,
                "chips": chips,
                "hl": highlight,
            }
        )
    return rows


class HtmlWriter(Writer):
    name: ClassVar[str] = "html"
    suffix: ClassVar[str] = ".html"

    def __init__(self, transcript: bool = True) -> None:
        self.transcript = transcript

    def render(self, session: Session) -> str:
        metrics = metrics_svg(session)
        return _template().render(
            s=session,
            title=session.source or session.id,
            facts=[
                ("Format", session.format or "unknown"),
                ("Duration", duration_text(session)),
                ("Speakers", speakers_line(session)),
                *meta_items(session),
            ],
            attention=attention(session),
            status=episode_status,
            cards=cards(session),
            moments=moments(session),
            timeline=Markup(timeline_svg(session)),  # escaped in svg.py
            metrics=Markup(metrics) if metrics else None,
            label=code_label,
            group=group_evidence,
            transcript=_transcript(session) if self.transcript else None,
            disclaimer=DISCLAIMER,
            phi=PHI_NOTICE,
            version=__version__,
            css=Markup(_css()),
            csp=Markup(style_policy(_css())),  # base64 and quotes only, no "
        )
