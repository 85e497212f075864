"""The Markdown report: the same sections as the HTML report, without charts.

It opens, like the HTML report, with what needs attention (open and flagged rupture
episodes with their evidence and suggested repair moves), then the metrics.

Useful for pasting into notes or a clinical record system that takes plain text.
Every string that comes from the session (transcript text, and the session JSON's
``format``, ids, provenance, speaker labels, codes, warnings) goes through
:func:`md_escape`: control characters and terminal escapes are removed and ``<``, ``|``,
``*``, … escaped, so nothing can turn into markup, a table break or an HTML tag when the
Markdown is rendered.
"""

from __future__ import annotations

import re
from typing import ClassVar

from attunement.model import Session
from attunement.model.episode import Episode
from attunement.report.base import Writer
from attunement.report.sanitize import plain_text
from attunement.report.view import (
    DISCLAIMER,
    PHI_NOTICE,
    EvidenceLine,
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

_SPECIAL = re.compile(r"([\\`*_\[\]{}#|!~>])")


def md_escape(text: str) -> str:
    """Make untrusted text inert in Markdown (and in the HTML a renderer makes of it):
    one line, no control characters or escape sequences, metacharacters escaped."""
    text = " ".join(plain_text(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return _SPECIAL.sub(r"\\\1", text)


def _ev(ev: EvidenceLine) -> str:
    at = md_escape(ev.timestamp or ev.utterance_id)
    codes = ", ".join(f"{md_escape(name)} ({p:.2f})" for name, p in ev.codes)
    cue = f" ({md_escape(ev.cue)})" if ev.cue else ""
    return f"{at} ({md_escape(ev.utterance_id)}) {codes}: “{md_escape(ev.quote)}”{cue}"


def _episode(ep: Episode) -> list[str]:
    at = ep.markers[0].timestamp if ep.markers and ep.markers[0].timestamp else None
    out = [
        f"### Episode {md_escape(ep.id)}: {ep.kind}{f' at {md_escape(at)}' if at else ''}, "
        f"salience {ep.salience}/5, {episode_status(ep)}\n"
    ]
    if ep.summary:
        out.append(md_escape(ep.summary) + "\n")
    if ep.flags:
        out.append("Flags: " + ", ".join(md_escape(f) for f in ep.flags) + "\n")
    for title, evs in (
        ("Evidence (client markers)", ep.markers),
        ("What preceded it (therapist contribution)", ep.contribution),
        ("Repair moves so far", ep.repairs),
        ("Resolution evidence", ep.resolution_evidence),
    ):
        if evs:
            out.append(f"{title}:\n")
            out.extend(f"- {_ev(ev)}" for ev in group_evidence(evs))
            out.append("")
    if ep.suggestions:
        out.append("Suggested repair moves:\n")
        out.extend(
            f"- {md_escape(code_label(s.strategy))}: {md_escape(s.text)}" for s in ep.suggestions
        )
        out.append("")
    return out


class MarkdownWriter(Writer):
    name: ClassVar[str] = "markdown"
    suffix: ClassVar[str] = ".md"

    def __init__(self, transcript: bool = True) -> None:
        self.transcript = transcript

    def render(self, session: Session) -> str:
        out: list[str] = []
        add = out.append
        add(f"# Session report: {md_escape(session.source or session.id)}\n")
        add(f"- Format: {md_escape(session.format or 'unknown')}")
        add(f"- Duration: {duration_text(session)}")
        add(f"- Speakers: {md_escape(speakers_line(session))}")
        for k, v in meta_items(session):
            add(f"- {md_escape(k)}: {md_escape(v)}")
        add("")

        att = attention(session)
        add("## Needs your attention\n")
        for ep in att.episodes:
            out.extend(_episode(ep))
        if not att.episodes:
            add(att.calm + "\n")

        found = cards(session)
        if found:
            add("## Metrics\n")
            for card in found:
                items = "; ".join(f"{md_escape(k)} {md_escape(v)}" for k, v in card.items)
                add(f"**{md_escape(card.analyzer)}**: {items}")
                add("")

        add("## Coded moments\n")
        ms = moments(session)
        if ms:
            add("| at | id | speaker | kind | code | p | words |")
            add("|---|---|---|---|---|---|---|")
            for m in ms:
                add(
                    f"| {m.timestamp or ''} | {md_escape(m.utterance_id)} | "
                    f"{md_escape(m.speaker)} | {m.kind} | {md_escape(m.label)} | "
                    f"{m.probability:.2f} | {md_escape(m.quote)} |"
                )
        else:
            add("No coded moments at or above probability 0.5.")
        add("")

        if att.repaired:
            add("## Rupture episodes repaired in the session\n")
            for ep in att.repaired:
                moves = ", ".join(dict.fromkeys(code_label(r.code) for r in ep.repairs))
                at = ep.markers[0].timestamp if ep.markers and ep.markers[0].timestamp else ""
                where = f" at {md_escape(at)}" if at else ""
                add(
                    f"- Episode {md_escape(ep.id)}: {ep.kind}{where}, "
                    f"salience {ep.salience}/5, {episode_status(ep)}"
                    + (f"; repair: {md_escape(moves)}" if moves else "")
                )
            add("")

        if session.warnings:
            add("## Warnings\n")
            out.extend(f"- {md_escape(w)}" for w in session.warnings)
            add("")

        if self.transcript:
            add("## Transcript\n")
            for u in session.utterances:
                codes = ", ".join(md_escape(code_label(a.code)) for a in u.codes())
                at = f"[{u.timestamp()}] " if u.start is not None else ""
                tail = f" _({codes})_" if codes else ""
                who, uid = md_escape(u.speaker), md_escape(u.id)
                add(f"- {at}**{who}** ({uid}): {md_escape(u.text)}{tail}")
            add("")

        add("---\n")
        if session.provenance:
            add("Analyzers: " + ", ".join(md_escape(p) for p in session.provenance) + "\n")
        add(f"_{DISCLAIMER}_\n")
        add(f"_{PHI_NOTICE}_")
        return "\n".join(out) + "\n"
