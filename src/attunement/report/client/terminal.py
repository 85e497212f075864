"""Terminal summary of the client course (rich): first what needs attention (high and
medium alerts with their reasons, open cross-session episodes), then the measures,
resolved episodes, alliance drops, dropout warning signs and settled alerts.

Text from the client folder (instrument names, notes, alert reasons, warnings) is shown
through :mod:`attunement.report.sanitize`: control characters and escape sequences are
written out visibly, and rich markup in it is printed, not interpreted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from attunement.course.model import Alert, ClientCourse, CourseEpisode
from attunement.report.client.view import course_attention
from attunement.report.sanitize import terminal_markup as e
from attunement.report.sanitize import terminal_text as t_

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

COLOURS = {"high": "bold red", "medium": "yellow", "low": "dim"}


def render_terminal(course: ClientCourse, console: Console) -> None:
    from rich.table import Table

    dates = [s.date for s in course.sessions if s.date is not None]
    span = f", {min(dates)} to {max(dates)}" if dates else ""
    console.print(
        f"[bold]Client {e(course.client_id)}[/bold]: {len(course.sessions)} sessions{e(span)}"
    )

    att = course_attention(course)
    console.rule("[bold]Needs your attention", align="left")
    for a in att.alerts:
        _alert(console, a)
    if att.episodes:
        console.print(_episodes("Rupture episodes still open across sessions", att.episodes))
    if not att.alerts and not att.episodes:
        console.print(t_(att.calm), markup=False)

    table = Table(title="Measures", show_lines=False)
    for col in ("instrument", "first", "last", "band", "change", "sudden"):
        table.add_column(col)
    for t in course.trajectories.values():
        valid = [p for p in t.points if p.score.total is not None]
        if not valid:
            continue
        first, last = valid[0], valid[-1]
        change = ""
        if t.change is not None and t.change.category:
            change = f"{t.change.category} (RCI {t.change.rci})"
        sudden = ", ".join(f"{k} {a}→{b}" for k, a, b in t.sudden_sessions)
        table.add_row(
            e(t.name),
            f"{first.score.total:g}",
            f"{last.score.total:g}",
            e(last.score.band or ""),
            e(change),
            e(sudden),
        )
    console.print(table)

    if att.closed:
        console.print(_episodes("Rupture episodes resolved", att.closed))

    for key, seqs in course.alliance_sequences.items():
        for q in seqs:
            back = f"back at {q.recovery_session}" if q.recovery_session is not None else "not back"
            console.print(
                t_(
                    f"Alliance drop ({key}): session {q.drop_session}, {q.pre_level:g} → "
                    f"{q.low_score:g}, {back} ({q.outcome})"
                ),
                markup=False,
            )

    d = course.dropout
    console.print(f"Dropout warning signs: [{COLOURS[d.level]}]{d.level}[/] ({d.score:.2f})")
    for c in d.components:
        if c.contribution > 0:
            console.print(
                t_(f"  +{c.contribution:.2f} {c.name.replace('_', ' ')}: {c.reason}"),
                markup=False,
            )

    if att.settled:
        console.print("[bold]Settled or settling[/bold]")
    for a in att.settled:
        _alert(console, a)
    for w in course.warnings:
        console.print(t_(f"warning: {w}"), markup=False, style="dim")


def _alert(console: Console, a: Alert) -> None:
    console.print(f"[{COLOURS[a.priority]}]{a.priority.upper():6}[/] ", end="")
    console.print(t_(a.text), markup=False)
    for r in a.reasons[:6]:
        console.print(t_(f"         · {r}"), markup=False)
    if len(a.reasons) > 6:
        console.print(f"         · … {len(a.reasons) - 6} more (see --html/--json)", markup=False)
    if a.context:
        console.print(t_("         context: " + "; ".join(a.context)), markup=False)


def _episodes(title: str, episodes: list[CourseEpisode]) -> Table:
    from rich.table import Table

    eps = Table(title=title)
    for col in ("id", "state", "kind", "opened by", "sessions", "repair moves"):
        eps.add_column(col)
    for ep in episodes:
        sessions = (
            f"{ep.start_session}–{ep.end_session}" if ep.end_session else f"{ep.start_session}–"
        )
        eps.add_row(
            e(ep.id),
            e(ep.state.replace("_", " ")),
            e(ep.kind),
            e(ep.opened_by.replace("_", " ")),
            sessions,
            e(", ".join(ep.repair_moves)),
        )
    return eps
