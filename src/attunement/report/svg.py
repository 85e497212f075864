"""Inline SVG charts for the HTML report, generated in Python (no JavaScript, no network).

Two charts: the session timeline (turns as bars per speaker, coded moments as glyphs,
rupture episodes as shaded spans) and attunement metrics over time (rolling language
style matching, semantic responsiveness, valence per role). Styling comes from CSS
classes defined in the report template, which keeps the markup small for long sessions.
Every piece of transcript-derived text (speaker names, quotes in tooltips) is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from attunement.model import Role, Session, Utterance, format_timestamp
from attunement.report.view import moments, shorten

LEFT, RIGHT, TOP = 120, 16, 10
ROW, GAP = 14, 5
LANE = 18  # glyph lane height


@dataclass(frozen=True)
class XScale:
    """Maps an utterance to x: by seconds when the session is timed, else by turn index."""

    timed: bool
    lo: float
    hi: float
    width: int

    def x(self, value: float) -> float:
        span = self.hi - self.lo or 1.0
        return LEFT + (value - self.lo) / span * (self.width - LEFT - RIGHT)

    def of(self, u: Utterance) -> float:
        return self.x(u.start if self.timed and u.start is not None else u.index)

    def label(self) -> str:
        return "time (m:ss)" if self.timed else "turn"

    def ticks(self) -> list[tuple[float, str]]:
        """Axis ticks at round steps, at most ``MAX_TICKS`` of them whatever the domain
        (the model bounds times, but a chart must never loop on its input's values)."""
        lo, hi = self.lo, self.hi
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
            return []
        step = _tick_step(hi - lo, self.timed)
        out: list[tuple[float, str]] = []
        k = max(0, math.ceil(lo / step))
        while len(out) < MAX_TICKS:
            v = float(k * step)
            if v > hi:
                break
            text = format_timestamp(v) if self.timed else str(int(v))
            out.append((self.x(v), text))
            k += 1
        return out


#: upper bound on axis ticks (the steps below aim at 12 or fewer)
MAX_TICKS = 16
_TIME_STEPS = (60, 120, 300, 600, 900, 1800, 3600)
_TURN_STEPS = (5, 10, 20, 50, 100, 200, 500, 1000)


def _tick_step(span: float, timed: bool) -> float:
    """The first round step that gives at most 12 ticks over ``span``: minutes for time,
    turns otherwise, then whole multiples (hours, thousands) for very long sessions."""
    steps = _TIME_STEPS if timed else _TURN_STEPS
    step = next((s for s in steps if span / s <= 12), None)
    if step is not None:
        return float(step)
    unit = steps[-1]
    return float(unit * math.ceil(span / (12 * unit)))


def x_scale(session: Session, width: int) -> XScale:
    starts = [u.start for u in session.utterances if u.start is not None]
    timed = bool(session.utterances) and len(starts) == len(session.utterances)
    if timed:
        end = session.duration or max(starts)
        return XScale(True, 0.0, max(end, max(starts) + 1.0), width)
    return XScale(False, 0.0, float(max(len(session.utterances), 1)), width)


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _axis(scale: XScale, y: float, height: float) -> list[str]:
    parts = [f'<line class="ax" x1="{LEFT}" y1="{_f(y)}" x2="{scale.width - RIGHT}" y2="{_f(y)}"/>']
    for x, text in scale.ticks():
        parts.append(f'<line class="tk" x1="{_f(x)}" y1="{TOP}" x2="{_f(x)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tl" x="{_f(x)}" y="{_f(y + 12)}">{text}</text>')
    parts.append(
        f'<text class="al" x="{_f((LEFT + scale.width) / 2)}" y="{_f(height - 2)}">'
        f"{scale.label()}</text>"
    )
    return parts


def timeline_svg(session: Session, width: int = 960) -> str:
    """Speaker turns along time, coded moments as glyphs, episodes as shaded spans."""
    scale = x_scale(session, width)
    speakers = sorted(session.speakers, key=lambda s: (s.role is not Role.THERAPIST, s.id))
    row_of = {s.id: i for i, s in enumerate(speakers)}
    rows_top = TOP + LANE + GAP
    bottom = rows_top + len(speakers) * (ROW + GAP)
    height = bottom + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Session timeline">'
    ]
    by_id = {u.id: u for u in session.utterances}
    for ep in session.episodes:
        a, b = by_id.get(ep.start_id), by_id.get(ep.end_id)
        if a is None or b is None:
            continue
        x0, x1 = scale.of(a), max(scale.of(b) + 3, scale.of(a) + 6)
        parts.append(
            f'<a href="#{escape(ep.id)}"><rect class="ep" x="{_f(x0 - 2)}" y="{TOP}" '
            f'width="{_f(x1 - x0 + 4)}" height="{bottom - TOP}"><title>Episode {escape(ep.id)}: '
            f"{ep.kind}, salience {ep.salience}, {ep.resolution}</title></rect></a>"
        )
    for s in speakers:
        y = rows_top + row_of[s.id] * (ROW + GAP)
        parts.append(
            f'<text class="sl" x="{LEFT - 6}" y="{y + ROW - 3}">{escape(shorten(s.id, 16))}</text>'
        )
    utts = session.utterances
    for i, u in enumerate(utts):
        if u.speaker not in row_of:
            continue
        x0 = scale.of(u)
        if scale.timed:
            stop = (
                u.end if u.end is not None else (utts[i + 1].start if i + 1 < len(utts) else None)
            )
            x1 = scale.x(stop) if stop is not None else x0 + 2
        else:
            x1 = scale.x(u.index + 1)
        y = rows_top + row_of[u.speaker] * (ROW + GAP)
        cls = "t" if u.role is Role.THERAPIST else "c"
        parts.append(
            f'<rect class="{cls}" x="{_f(x0)}" y="{y}" width="{_f(max(x1 - x0, 1.0))}" '
            f'height="{ROW}"/>'
        )
    for m in moments(session):
        u = by_id[m.utterance_id]
        x = scale.of(u)
        yc = TOP + LANE / 2
        title = escape(f"{m.timestamp or m.utterance_id} {m.label} ({m.probability:.2f})")
        if m.kind == "marker":
            cls = (
                "gw" if m.family == "withdrawal" else "gc" if m.family == "confrontation" else "gf"
            )
            shape = (
                f'<path class="{cls}" d="M{_f(x)} {_f(yc + 6)}L{_f(x - 5)} {_f(yc - 4)}'
                f'H{_f(x + 5)}Z"/>'
            )
        elif m.kind == "failure":
            shape = (
                f'<path class="gx" d="M{_f(x - 4)} {_f(yc - 4)}L{_f(x + 4)} {_f(yc + 4)}'
                f'M{_f(x + 4)} {_f(yc - 4)}L{_f(x - 4)} {_f(yc + 4)}"/>'
            )
        else:
            shape = f'<circle class="gr" cx="{_f(x)}" cy="{_f(yc)}" r="4"/>'
        parts.append(f'<a href="#{m.utterance_id}"><title>{title}</title>{shape}</a>')
    parts.extend(_axis(scale, bottom, height))
    parts.append("</svg>")
    return "".join(parts)


def _moving_average(values: Sequence[float], window: int) -> list[float]:
    out: list[float] = []
    total = 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _series(
    session: Session, feature: str, role: Role | None = None
) -> list[tuple[Utterance, float]]:
    out = []
    for u in session.utterances:
        v = u.features.get(feature)
        if v is not None and (role is None or u.role is role):
            out.append((u, float(v)))
    return out


def _panel(
    scale: XScale,
    top: float,
    height: float,
    lo: float,
    hi: float,
    title: str,
    lines: list[tuple[str, str, list[tuple[float, float]]]],
) -> list[str]:
    """One y-axis panel: horizontal grid, y labels, polylines with a legend."""
    bottom = top + height

    def y(v: float) -> float:
        return bottom - (min(max(v, lo), hi) - lo) / (hi - lo) * height

    parts = [f'<text class="pt" x="{LEFT}" y="{_f(top - 4)}">{escape(title)}</text>']
    for v in (lo, (lo + hi) / 2, hi):
        parts.append(
            f'<line class="tk" x1="{LEFT}" y1="{_f(y(v))}" x2="{scale.width - RIGHT}" '
            f'y2="{_f(y(v))}"/><text class="yl" x="{LEFT - 6}" y="{_f(y(v) + 4)}">{_f(v)}</text>'
        )
    legend_x = scale.width - RIGHT
    for cls, name, points in reversed(lines):
        if not points:
            continue
        pts = " ".join(f"{_f(x)},{_f(y(v))}" for x, v in points)
        parts.append(f'<polyline class="{cls}" points="{pts}"/>')
        if len(points) < 40:
            parts.extend(
                f'<circle class="{cls} pd" cx="{_f(x)}" cy="{_f(y(v))}" r="2.5"/>'
                for x, v in points
            )
        legend_x -= 8 * len(name) + 24
        parts.append(
            f'<line class="{cls}" x1="{_f(legend_x)}" y1="{_f(top - 8)}" x2="{_f(legend_x + 14)}" '
            f'y2="{_f(top - 8)}"/><text class="lg" x="{_f(legend_x + 18)}" y="{_f(top - 4)}">'
            f"{escape(name)}</text>"
        )
    return parts


def metrics_svg(session: Session, width: int = 960, smooth: int = 5) -> str | None:
    """Rolling LSM and semantic responsiveness (0–1) above valence per role (−1–1).

    Valence is a moving average over ``smooth`` turns of each role, since single-turn
    valence jumps too much to read. None when no analyzer produced these features.
    """
    lsm = _series(session, "lsm_rolling")
    sem = _series(session, "semantic_responsiveness")
    val_t = _series(session, "valence", Role.THERAPIST)
    val_c = _series(session, "valence", Role.CLIENT)
    if not (lsm or sem or val_t or val_c):
        return None
    scale = x_scale(session, width)
    panel_h = 110
    top1 = TOP + 22
    top2 = top1 + panel_h + 40
    height = int(top2 + panel_h + 32)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Attunement metrics over time">'
    ]

    def pts(series: list[tuple[Utterance, float]], avg: bool = False) -> list[tuple[float, float]]:
        values = [v for _, v in series]
        if avg:
            values = _moving_average(values, smooth)
        return [(scale.of(u), v) for (u, _), v in zip(series, values, strict=True)]

    parts += _panel(
        scale,
        top1,
        panel_h,
        0.0,
        1.0,
        "Matching and responsiveness (0–1)",
        [
            ("m1", "rolling LSM", pts(lsm)),
            ("m2", "semantic responsiveness", pts(sem)),
        ],
    )
    parts += _panel(
        scale,
        top2,
        panel_h,
        -1.0,
        1.0,
        f"Valence by role (moving average of {smooth} turns)",
        [("vt", "therapist", pts(val_t, True)), ("vc", "client", pts(val_c, True))],
    )
    parts.extend(_axis(scale, top2 + panel_h, height))
    parts.append("</svg>")
    return "".join(parts)
