"""What every human-readable writer shows, computed once from a session.

Writers differ in layout, not in content: the terminal summary, Markdown and HTML all
list the same coded moments, cards and episodes, so a clinician sees the same evidence
whichever format they open. Nothing here analyzes; it only selects and labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from attunement.model import Session, default_codebook, format_timestamp
from attunement.model.codebook import Codebook
from attunement.model.episode import Episode, Evidence

MomentKind = Literal["marker", "failure", "repair"]

#: episode resolutions that leave a rupture open: nothing in the session repaired it
OPEN_RESOLUTIONS = ("unresolved", "not_addressed")

#: codes at or above this probability are shown as coded moments
MIN_PROBABILITY = 0.5

DISCLAIMER = (
    "These are observations to support a clinician's own judgement, with the words they "
    "rest on. They are not diagnoses and not a rating of the therapist or the client."
)
PHI_NOTICE = "Generated locally; contains protected health information — store securely."

_KIND_BY_FAMILY: dict[str, MomentKind] = {
    "withdrawal": "marker",
    "confrontation": "marker",
    "client_flag": "marker",
    "failure": "failure",
    "resolution": "repair",
}


@dataclass(frozen=True)
class Moment:
    """One coded utterance worth a clinician's look."""

    utterance_id: str
    timestamp: str | None
    speaker: str
    role: str
    kind: MomentKind
    family: str
    code: str
    label: str
    probability: float
    quote: str


def shorten(text: str, limit: int = 120) -> str:
    """Cut ``text`` at a word boundary and mark the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def code_label(code: str, codebook: Codebook | None = None) -> str:
    """The codebook label for ``code``; for other ids (episode evidence such as
    ``marker_recurred``) the id made readable."""
    cb = codebook or default_codebook()
    for c in cb.code:
        if c.id == code:
            return c.label
    return code.replace("_", " ")


@dataclass(frozen=True)
class EvidenceLine:
    """Evidence items of one utterance merged: one quote, several codes."""

    utterance_id: str
    timestamp: str | None
    speaker: str | None
    codes: list[tuple[str, float]]
    quote: str
    cue: str | None = None


def group_evidence(evidence: Sequence[Evidence]) -> list[EvidenceLine]:
    """Merge evidence on the same utterance so each quote is shown once (order kept)."""
    lines: dict[str, EvidenceLine] = {}
    for ev in evidence:
        line = lines.get(ev.utterance_id)
        if line is None:
            lines[ev.utterance_id] = EvidenceLine(
                ev.utterance_id, ev.timestamp, ev.speaker, [], ev.quote, ev.cue
            )
            line = lines[ev.utterance_id]
        line.codes.append((code_label(ev.code), ev.probability))
    return list(lines.values())


def code_family(code: str, codebook: Codebook | None = None) -> str:
    cb = codebook or default_codebook()
    for c in cb.code:
        if c.id == code:
            return c.family
    return "other"


def moments(
    session: Session, min_probability: float = MIN_PROBABILITY, codebook: Codebook | None = None
) -> list[Moment]:
    """Markers, failures and repairs at or above ``min_probability``, in session order."""
    cb = codebook or default_codebook()
    families = {c.id: c.family for c in cb.code}
    labels = {c.id: c.label for c in cb.code}
    out: list[Moment] = []
    for u in session.utterances:
        for a in u.codes(min_probability):
            family = families.get(a.code, "other")
            kind = _KIND_BY_FAMILY.get(family)
            if kind is None or a.probability < min_probability:
                continue
            out.append(
                Moment(
                    utterance_id=u.id,
                    timestamp=u.timestamp(),
                    speaker=u.speaker,
                    role=str(u.role),
                    kind=kind,
                    family=family,
                    code=a.code,
                    label=labels.get(a.code, a.code),
                    probability=a.probability,
                    quote=shorten(u.text, 90),
                )
            )
    return out


@dataclass(frozen=True)
class Card:
    """One metric card: the analyzer it came from and its headline numbers."""

    analyzer: str
    items: list[tuple[str, str]]


def format_value(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def cards(session: Session) -> list[Card]:
    """Every analyzer's ``headline`` (at most five items each), in the registry's order."""
    from attunement.analysis.pipeline import DEFAULT_ANALYZERS

    rank = {n: i for i, n in enumerate(DEFAULT_ANALYZERS)}
    out: list[Card] = []
    items_in_order = sorted(session.metrics.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    for name, metrics in items_in_order:
        headline = metrics.get("headline") if isinstance(metrics, dict) else None
        if not isinstance(headline, dict) or not headline:
            continue
        items = [(str(k), format_value(v)) for k, v in list(headline.items())[:5]]
        out.append(Card(analyzer=name, items=items))
    return out


def speakers_line(session: Session) -> str:
    return ", ".join(f"{s.id} ({s.role})" for s in session.speakers) or "none"


def duration_text(session: Session) -> str:
    d = session.duration
    if d is None:
        return f"{len(session.utterances)} turns (no timestamps)"
    return f"{format_timestamp(d)} ({len(session.utterances)} turns)"


def meta_items(session: Session) -> list[tuple[str, str]]:
    """Session facts worth a header line, skipping what is unknown."""
    m = session.meta
    items: list[tuple[str, str]] = []
    if m.client_id:
        items.append(("Client", m.client_id))
    if m.session_number is not None:
        items.append(("Session", str(m.session_number)))
    if m.date is not None:
        items.append(("Date", m.date.isoformat()))
    if m.modality:
        items.append(("Modality", m.modality))
    return items


def needs_attention(episode: Episode) -> bool:
    """An episode the clinician should look at first: not (fully) repaired in the
    session, or carrying a flag (escalation, termination risk, boundary pressure)."""
    return episode.resolution != "resolved" or bool(episode.flags)


@dataclass(frozen=True)
class Attention:
    """What a report opens with: the episodes that need attention (open ones first, then
    flagged, then by salience; session order otherwise) and the ones already repaired."""

    episodes: list[Episode]
    repaired: list[Episode]
    looked: bool  # False when the episodes analyzer did not run

    @property
    def calm(self) -> str:
        """The line shown when nothing needs attention."""
        if not self.looked:
            return (
                "Nothing is marked for attention, but the episodes analyzer did not run, "
                "so ruptures were not looked for."
            )
        if self.repaired:
            n = len(self.repaired)
            return (
                f"Nothing needs your attention: the {n} rupture episode{'s' * (n != 1)} "
                "found were repaired in the session."
            )
        return "Nothing needs your attention: no rupture episodes were found."


def attention(session: Session) -> Attention:
    urgent = [e for e in session.episodes if needs_attention(e)]
    urgent.sort(key=lambda e: (e.resolution not in OPEN_RESOLUTIONS, not e.flags, -e.salience))
    repaired = [e for e in session.episodes if not needs_attention(e)]
    looked = "episodes" in session.metrics or bool(session.episodes)
    return Attention(urgent, repaired, looked)


def episode_status(episode: Episode) -> str:
    """Why an episode is (or is not) in the attention list, in words."""
    if episode.resolution in OPEN_RESOLUTIONS:
        return "open: " + episode.resolution.replace("_", " ")
    return episode.resolution.replace("_", " ")
