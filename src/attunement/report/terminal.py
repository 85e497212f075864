"""The terminal summary (rich): header, what needs attention (open and flagged rupture
episodes with their evidence), metric cards, coded moments, repaired episodes, warnings.

Meant to be read in a few seconds after ``attune analyze``; the HTML report is the place
for the full transcript. ``print_summary`` writes to a console (colours when it is a
terminal); ``render`` returns plain text, for tests and pipes.

Every string from the session (and the input's file name) goes through
:func:`~attunement.report.sanitize.terminal_markup` before it is put in a rich markup
string: escape sequences and control characters are shown visibly (``\\x1b[2J``), never
sent to the terminal, and ``[bold]`` in a transcript is printed, not interpreted. Pass a
``Console(emoji=False)`` so ``:smile:`` codes in the text stay text.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, ClassVar

from attunement.model import Session
from attunement.model.episode import Episode
from attunement.report.base import Writer
from attunement.report.sanitize import terminal_markup as e
from attunement.report.view import (
    DISCLAIMER,
    Moment,
    attention,
    cards,
    code_label,
    duration_text,
    episode_status,
    group_evidence,
    meta_items,
    moments,
    shorten,
    speakers_line,
)

if TYPE_CHECKING:
    from rich.console import Console

#: at most this many coded turns in the table (the HTML report has all of them)
MAX_MOMENTS = 40

_KIND_STYLE = {"marker": "yellow", "failure": "red", "repair": "green"}
_RESOLUTION_STYLE = {
    "resolved": "green",
    "partially_resolved": "yellow",
    "unresolved": "red",
    "not_addressed": "red",
}


class TerminalWriter(Writer):
    name: ClassVar[str] = "terminal"
    suffix: ClassVar[str] = ".txt"

    def __init__(self, width: int = 100, max_moments: int = MAX_MOMENTS) -> None:
        self.width = width
        self.max_moments = max_moments

    def render(self, session: Session) -> str:
        from rich.console import Console

        buf = io.StringIO()
        console = Console(file=buf, width=self.width, no_color=True, highlight=False, emoji=False)
        self.print_summary(session, console)
        return buf.getvalue()

    def print_summary(self, session: Session, console: Console) -> None:
        from rich.columns import Columns
        from rich.panel import Panel
        from rich.table import Table

        title = session.source or session.id
        facts = [
            f"format {session.format or 'unknown'}",
            f"duration {duration_text(session)}",
            *(f"{k.lower()} {v}" for k, v in meta_items(session)),
        ]
        console.rule(f"[bold]{e(title)}")
        console.print(e(" · ".join(facts)))
        console.print(f"speakers: {e(speakers_line(session))}")

        att = attention(session)
        console.rule("[bold]Needs your attention", align="left")
        for ep in att.episodes:
            console.print("\n".join(_episode_lines(ep)))
        if not att.episodes:
            console.print(e(att.calm))

        panels = []
        for card in cards(session):
            body = "\n".join(f"{e(k)}: [bold]{e(v)}[/]" for k, v in card.items)
            panels.append(Panel(body, title=e(card.analyzer), expand=False))
        if panels:
            console.print(Columns(panels))

        found = moments(session)
        rows: dict[str, list[Moment]] = {}
        for m in found:
            rows.setdefault(m.utterance_id, []).append(m)
        if rows:
            table = Table(title="Coded moments (p ≥ 0.5)", expand=False)
            for col in ("at", "speaker", "codes", "words"):
                table.add_column(col, overflow="fold")
            for ms in list(rows.values())[: self.max_moments]:
                first = ms[0]
                codes = ", ".join(
                    f"[{_KIND_STYLE[m.kind]}]{e(m.label)}[/] {m.probability:.2f}" for m in ms
                )
                table.add_row(
                    e(first.timestamp or first.utterance_id),
                    e(shorten(first.speaker, 14)),
                    codes,
                    e(shorten(first.quote, 48)),
                )
            console.print(table)
            if len(rows) > self.max_moments:
                console.print(f"… and {len(rows) - self.max_moments} more turns in the full report")
        else:
            console.print("No coded moments at or above probability 0.5.")

        if att.repaired:
            console.print("[bold]Repaired in the session[/]")
            for ep in att.repaired:
                console.print(_episode_lines(ep)[0])

        for w in session.warnings:
            console.print(f"[yellow]warning:[/] {e(w)}")
        console.print(f"[dim]{DISCLAIMER}[/]")


def _episode_lines(ep: Episode) -> list[str]:
    """The episode's headline, then its evidence, what preceded it, repairs, suggestions."""
    style = _RESOLUTION_STYLE.get(ep.resolution, "white")
    at = ep.markers[0].timestamp if ep.markers and ep.markers[0].timestamp else ep.start_id
    head = (
        f"[bold]Episode {e(ep.id)}[/] · {ep.kind} at {e(at)} · salience {ep.salience}/5 · "
        f"[{style}]{episode_status(ep)}[/]"
    )
    if ep.flags:
        head += " · flags: " + ", ".join(e(f) for f in ep.flags)
    lines = [head]
    if ep.summary:
        lines.append(e(ep.summary))
    for title, evs in (("marker", ep.markers), ("before it", ep.contribution)):
        for line in group_evidence(evs)[:3]:
            codes = ", ".join(name for name, _ in line.codes)
            who = f" {e(shorten(line.speaker, 14))}" if line.speaker else ""
            lines.append(
                f"  {title} {e(line.timestamp or line.utterance_id)}{who} {e(codes)}: "
                f"“{e(shorten(line.quote, 70))}”" + (f" ({e(line.cue)})" if line.cue else "")
            )
    for line in group_evidence(ep.repairs)[:3]:
        codes = ", ".join(name for name, _ in line.codes)
        lines.append(f"  repair {e(line.timestamp or line.utterance_id)} {e(codes)}")
    for sug in ep.suggestions[:2]:
        lines.append(f"  suggestion ({e(code_label(sug.strategy))}): {e(sug.text)}")
    return lines
