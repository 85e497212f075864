"""Inline SVG charts for the client report: scores over sessions, with bands, cutoff,
rupture episodes as spans and events (missed appointments) as marks.

Plain string building (no plotting library, no network); every label is escaped.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from attunement.course.model import ClientCourse, Trajectory

W, H = 760, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 30
BAND_COLOURS = ("#eef6ee", "#f7f4e6", "#fbefe2", "#f8e6e1", "#f3dcdc")
STATE_COLOURS = {
    "open": "#f2c14e",
    "working_through": "#f29e4c",
    "resolved": "#7bb38a",
    "enhanced": "#3f8f5a",
    "unresolved": "#d1495b",
    "ended_therapy": "#8c1c13",
}


class _SessionAxis:
    """x of a session number, linear between the first and the last session.

    Positions are computed, never tabulated over the numeric range: session 1 and session
    10,000 cost as little as sessions 1 and 2. ``n in axis`` is True for any number
    within that range (an episode may name a session between two charted ones).
    """

    def __init__(self, numbers: list[int]) -> None:
        self.lo = numbers[0] if numbers else 0
        self.hi = max(numbers[-1], numbers[0] + 1) if numbers else 1

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and self.lo <= n <= self.hi

    def __getitem__(self, n: int) -> float:
        return LEFT + (n - self.lo) / (self.hi - self.lo) * (W - LEFT - RIGHT)


def _sessions_x(course: ClientCourse) -> tuple[_SessionAxis, list[int]]:
    numbers = sorted({r.number for r in course.sessions})
    return _SessionAxis(numbers), numbers


def _date_x(course: ClientCourse, xs: _SessionAxis, date: dt.date) -> float | None:
    """Place a date between the sessions around it (events have dates, not numbers)."""
    dated = [(r.date, r.number) for r in course.sessions if r.date is not None]
    before = [(d, n) for d, n in dated if d <= date]
    after = [(d, n) for d, n in dated if d > date]
    if not before or not after:
        return None
    (d0, n0), (d1, n1) = before[-1], after[0]
    frac = (date - d0).days / max(1, (d1 - d0).days)
    return xs[n0] + frac * (xs[n1] - xs[n0])


def trajectory_chart(course: ClientCourse, traj: Trajectory) -> str:
    xs, numbers = _sessions_x(course)
    lo, hi = traj.score_range
    if not numbers or hi <= lo:
        return ""

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{escape(traj.name)} over sessions" class="chart">'
    ]
    colours = BAND_COLOURS if traj.higher_is == "worse" else BAND_COLOURS[: len(traj.bands)][::-1]
    for i, band in enumerate(traj.bands):
        upper = float(traj.bands[i + 1]["min"]) if i + 1 < len(traj.bands) else hi
        y0, y1 = y(min(upper, hi)), y(max(float(band["min"]), lo))
        parts.append(
            f'<rect x="{LEFT}" y="{y0:.1f}" width="{W - LEFT - RIGHT}" '
            f'height="{max(0.0, y1 - y0):.1f}" fill="{colours[i % len(colours)]}">'
            f"<title>{escape(str(band['label']))}</title></rect>"
        )
    for ep in course.episodes:
        start = ep.start_session if ep.start_session in xs else None
        end = ep.end_session if ep.end_session in xs else start
        if start is None or end is None:
            continue
        x0, x1 = xs[start] - 6, xs[end] + 6
        opened = _date_x(course, xs, ep.start_date) if ep.start_date is not None else None
        if opened is not None and opened < x0:
            x0 = opened  # an episode opened by an event starts at the event, not the session
        colour = STATE_COLOURS[ep.state]
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{H - TOP - BOTTOM}" '
            f'fill="{colour}" fill-opacity="0.18" stroke="{colour}">'
            f"<title>episode {escape(ep.id)}: {escape(ep.state.replace('_', ' '))}</title></rect>"
        )
    if traj.cutoff is not None:
        yc = y(traj.cutoff)
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{yc:.1f}" y2="{yc:.1f}" stroke="#a33" '
            f'stroke-dasharray="5 4"><title>cutoff {traj.cutoff:g}</title></line>'
        )
    for ev in course.events:
        xe = _date_x(course, xs, ev.date)
        if xe is None:
            continue
        colour = "#8c1c13" if ev.kind.startswith("therapist") else "#555"
        parts.append(
            f'<path d="M{xe:.1f},{TOP} l-5,-9 h10 z" fill="{colour}"/>'
            f'<line x1="{xe:.1f}" x2="{xe:.1f}" y1="{TOP}" y2="{H - BOTTOM}" stroke="{colour}" '
            f'stroke-dasharray="2 3"><title>{escape(ev.kind.replace("_", " "))} {ev.date}'
            "</title></line>"
        )
    pts = [
        (xs[p.session], y(p.score.total))
        for p in traj.points
        if p.score.total is not None and p.session in xs
    ]
    if pts:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(pts)
        )
        parts.append(f'<path d="{path}" fill="none" stroke="#1f4e79" stroke-width="2"/>')
        for p in traj.points:
            if p.score.total is None or p.session not in xs:
                continue
            mark = "#fff" if p.score.prorated else "#1f4e79"
            parts.append(
                f'<circle cx="{xs[p.session]:.1f}" cy="{y(p.score.total):.1f}" r="3.5" '
                f'fill="{mark}" stroke="#1f4e79"><title>session {p.session}: {p.score.total:g}'
                f"{' (prorated)' if p.score.prorated else ''}</title></circle>"
            )
    for v in (lo, (lo + hi) / 2, hi):
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">{v:g}</text>'
        )
    step = max(1, len(numbers) // 12)
    for n in numbers[::step]:
        parts.append(
            f'<text x="{xs[n]:.1f}" y="{H - 10}" text-anchor="middle" class="tick">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
