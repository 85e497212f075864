"""Terminal summary of the client course (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from attunement.course.model import ClientCourse

if TYPE_CHECKING:
    from rich.console import Console

COLOURS = {"high": "bold red", "medium": "yellow", "low": "dim"}


def render_terminal(course: ClientCourse, console: Console) -> None:
    from rich.table import Table

    dates = [s.date for s in course.sessions if s.date is not None]
    span = f", {min(dates)} to {max(dates)}" if dates else ""
    console.print(f"[bold]Client {course.client_id}[/bold]: {len(course.sessions)} sessions{span}")

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
            t.name,
            f"{first.score.total:g}",
            f"{last.score.total:g}",
            last.score.band or "",
            change,
            sudden,
        )
    console.print(table)

    if course.episodes:
        eps = Table(title="Rupture episodes")
        for col in ("id", "state", "kind", "opened by", "sessions", "repair moves"):
            eps.add_column(col)
        for e in course.episodes:
            sessions = (
                f"{e.start_session}–{e.end_session}" if e.end_session else f"{e.start_session}–"
            )
            eps.add_row(
                e.id,
                e.state.replace("_", " "),
                e.kind,
                e.opened_by.replace("_", " "),
                sessions,
                ", ".join(e.repair_moves),
            )
        console.print(eps)

    for key, seqs in course.alliance_sequences.items():
        for q in seqs:
            back = f"back at {q.recovery_session}" if q.recovery_session is not None else "not back"
            console.print(
                f"Alliance drop ({key}): session {q.drop_session}, {q.pre_level:g} → "
                f"{q.low_score:g}, {back} ({q.outcome})",
                markup=False,
            )

    d = course.dropout
    console.print(f"Dropout warning signs: [{COLOURS[d.level]}]{d.level}[/] ({d.score:.2f})")
    for c in d.components:
        if c.contribution > 0:
            console.print(
                f"  +{c.contribution:.2f} {c.name.replace('_', ' ')}: {c.reason}", markup=False
            )

    if course.alerts:
        console.print("[bold]Alerts[/bold]")
    for a in course.alerts:
        console.print(f"[{COLOURS[a.priority]}]{a.priority.upper():6}[/] ", end="")
        console.print(a.text, markup=False)
        for r in a.reasons[:6]:
            console.print(f"         · {r}", markup=False)
        if len(a.reasons) > 6:
            console.print(
                f"         · … {len(a.reasons) - 6} more (see --html/--json)", markup=False
            )
        if a.context:
            console.print("         context: " + "; ".join(a.context), markup=False)
    for w in course.warnings:
        console.print(f"warning: {w}", markup=False, style="dim")
