"""The HTML client report: one self-contained file, inline SVG, no network.

It opens with what needs attention (:func:`attunement.report.client.view.course_attention`:
the high and medium course alerts with their reasons, then the cross-session rupture
episodes still open with their timeline), then the charts, the settled alerts, the
resolved episodes, dropout warning signs and the session table.

Its Content-Security-Policy allows nothing but the one inline stylesheet (by hash): no
script, no network, no form, even if some text slipped through unescaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from attunement.course.model import ClientCourse
from attunement.measures.change import Change
from attunement.report.base import style_policy
from attunement.report.client.files import atomic_write_text
from attunement.report.client.svg import trajectory_chart
from attunement.report.client.view import course_attention

ORDER = {"alliance": 0, "rupture": 1, "outcome": 2, "other": 3}


@dataclass
class _Chart:
    name: str
    svg: object
    change: Change | None
    sudden: list[tuple[str, int, int]]


@cache
def _css() -> str:
    return files("attunement.report.client").joinpath("templates/client.css").read_text("utf-8")


def render_html(course: ClientCourse) -> str:
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("attunement.report.client", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    trajs = sorted(course.trajectories.values(), key=lambda t: (ORDER.get(t.role, 9), t.instrument))
    charts = [
        _Chart(
            t.name,
            Markup(trajectory_chart(course, t)),
            t.change if t.role == "outcome" else None,
            t.sudden_sessions,
        )
        for t in trajs
    ]
    dates = [s.date for s in course.sessions if s.date is not None]
    return env.get_template("client.html.j2").render(
        course=course,
        charts=charts,
        attention=course_attention(course),
        first_date=min(dates) if dates else None,
        last_date=max(dates) if dates else None,
        css=Markup(_css()),
        csp=Markup(style_policy(_css())),  # base64 and quotes only, no "
    )


def write_html(course: ClientCourse, path: Path) -> Path:
    return atomic_write_text(path, render_html(course))
