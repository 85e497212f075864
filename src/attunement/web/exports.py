"""A client's data as files: FHIR R4 Bundle, one tidy CSV, the printable report, a PDF.

Everything comes from what the library computed: the FHIR Bundle from
:func:`attunement.report.client.json_.bundle_json` over the stored answers, the rest from
the client's course (:func:`attunement.web.course.client_course`, i.e.
``attunement.course``) and the stored session summaries. Nothing is scored here. Files
are built in memory; nothing with PHI is written to disk.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING, Any

from attunement.store import checks, repo
from attunement.web.course import client_course

if TYPE_CHECKING:
    from attunement.course import ClientCourse
    from attunement.web.deps import Ctx

#: course episode states that still need the clinician
OPEN_STATES = ("open", "working_through", "unresolved")
CSV_COLUMNS = ("kind", "id", "session", "date", "measure", "value")
#: a spreadsheet runs a cell starting with one of these as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def filename(client_id: int, ext: str) -> str:
    """PHI-free: ``client-<id>-<date>.<ext>``."""
    return f"client-{client_id}-{dt.date.today().isoformat()}.{ext}"


def fhir_bundle(ctx: Ctx, client: repo.ClientView) -> str:
    from attunement.report.client.json_ import bundle_json

    admins = checks.administrations(ctx.db, ctx.store.keys, client.id)
    return bundle_json(admins, checks.instruments(), f"client-{client.id}")


# --- CSV ----------------------------------------------------------------------------


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading ``'``; numbers (from
    the library, never typed by anyone) pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _rows(course: ClientCourse | None, safety: list[checks.AlertView]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for sa in safety:
        rows.append(
            (
                "safety_alert",
                sa.id,
                None,
                sa.created_at.date(),
                f"{sa.instrument}:{sa.item}",
                "acknowledged" if sa.acknowledged_at else "open",
            )
        )
    if course is None:
        return rows
    for a in course.alerts:
        rows.append(("alert", a.id, a.session, None, a.priority, a.text))
    for ep in course.episodes:
        for measure, value in (
            ("kind", ep.kind),
            ("state", ep.state),
            ("opened_by", ep.opened_by),
            ("end_session", ep.end_session),
            ("sessions_spanned", ep.sessions_spanned),
            ("pre_alliance", ep.pre_alliance),
            ("post_alliance", ep.post_alliance),
            ("repair_moves", " ".join(ep.repair_moves)),
        ):
            if value not in (None, ""):
                rows.append(("episode", ep.id, ep.start_session, ep.start_date, measure, value))
    for traj in course.trajectories.values():
        for p in traj.points:
            for measure, value in (
                ("total", p.score.total),
                ("band", p.score.band),
                ("prorated", p.score.prorated),
                ("rci_vs_baseline", p.rci_vs_baseline),
            ):
                if value is not None:
                    rows.append(("score", traj.instrument, p.session, p.date, measure, value))
    for s in course.sessions:
        values: list[tuple[str, object]] = [
            ("alliance", s.alliance),
            ("tension", s.tension),
            ("tension_resolved", s.tension_resolved),
            ("direction", s.direction),
            ("termination_talk", s.termination_talk),
            ("repairs", " ".join(s.repairs)),
            ("failures", " ".join(s.failures)),
            ("client_note", s.client_note),
        ]
        values += [(f"marker:{code}", n) for code, n in sorted(s.markers.items())]
        for name, v in values:
            if v not in (None, ""):
                rows.append(("session", s.number, s.number, s.date, name, v))
    rows.append(("dropout", "", None, None, "level", course.dropout.level))
    rows.append(("dropout", "", None, None, "score", course.dropout.score))
    return rows


def course_csv(ctx: Ctx, client: repo.ClientView) -> str:
    """One tidy CSV (a row per observation) of what the client's course holds."""
    course = client_course(ctx.db, ctx.store.keys, client)
    safety = checks.alerts_of(ctx.db, [client.id], open_only=False)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _rows(course, safety):
        kind, ident, session, date, measure, value = row
        writer.writerow(
            [
                safe_cell(v)
                for v in (kind, ident, session, date.isoformat() if date else None, measure, value)
            ]
        )
    return out.getvalue()


# --- the printable report -----------------------------------------------------------


def report_values(ctx: Ctx, client: repo.ClientView) -> dict[str, Any]:
    """What the printable report (HTML and PDF) shows, attention first."""
    from markupsafe import Markup

    from attunement.report.client.svg import trajectory_chart
    from attunement.report.view import DISCLAIMER

    course = client_course(ctx.db, ctx.store.keys, client)
    sessions = repo.sessions_of(ctx.db, ctx.store.keys, client.id)
    charts: list[tuple[Any, Markup]] = []
    episodes: list[Any] = []
    if course is not None:
        for traj in course.trajectories.values():
            svg = trajectory_chart(course, traj)  # every text escaped in report.client.svg
            if svg:
                charts.append((traj, Markup(svg)))
        episodes = sorted(course.episodes, key=lambda e: e.state not in OPEN_STATES)
    return {
        "client": client,
        "course": course,
        "charts": charts,
        "episodes": episodes,
        "open_episodes": [e for e in episodes if e.state in OPEN_STATES],
        "safety": checks.alerts_of(ctx.db, [client.id]),
        "instruments": checks.instruments(),
        "sessions": sessions,
        "open_sessions": [s for s in sessions if s.summary.get("open_episodes")],
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "disclaimer": DISCLAIMER,
    }


def pdf_report(values: dict[str, Any]) -> bytes:
    """The printable report as a PDF (fpdf2, in memory). The document's metadata title
    names the client by id only."""
    from attunement.web.pdf import build_pdf

    return build_pdf(values)
