"""Cross-session rupture episodes: one episode from many kinds of evidence.

Evidence, in date order: the post-session rupture check (tension, how far it was settled,
pulling back vs. pushing back), alliance-check drops (k = 1 SD of the client's own series
below their running mean, as in :mod:`attunement.measures.alliance`), transcript markers and
in-session episodes, and events — a therapist-missed appointment opens an episode of its own.

States (``docs/client.md``):

* ``open`` — rupture evidence, not yet carried into a later session;
* ``working_through`` — the rupture continues into later sessions, or repair moves are seen;
* ``resolved`` — a session with no strain reported (or strain reported as settled), the
  alliance back to its pre-episode level, no unresolved in-session episode;
* ``enhanced`` — resolved, and the alliance after (mean of the resolving session and up to
  two more) exceeds the pre-episode level by at least max(0.5, SD of the pre-episode scores);
* ``unresolved`` — still open ``unresolved_after`` sessions after it began, with no sign
  of settling in the last session (less strain than at the peak, alliance at least a point
  above its low, strain reported as at least partly settled, or repair moves);
* ``ended_therapy`` — therapy ended (a ``therapy_ended`` event) while it was open.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Literal

from attunement.course.context import Event
from attunement.course.model import CourseEpisode, OpenedBy, SessionRecord, Source, TimelineEntry

Signal = tuple[Source, str, str]

EpisodeKind = Literal["withdrawal", "confrontation", "mixed", "unknown"]

OPENED_BY: dict[str, OpenedBy] = {
    "rupture_check": "client_report",
    "alliance_check": "alliance_drop",
}
TENSION_CLEAR = 2.0
SETTLED = 3.0
MIN_MARKERS = 2
UNRESOLVED_AFTER = 6
REPAIR_LABELS = {
    "R_ACKNOWLEDGE": "therapist acknowledged their part",
    "R_INVITE": "therapist invited talk about the relationship",
    "R_LINK_HISTORY": "therapist linked it to the client's history",
    "R_LINK_RELATIONSHIP": "therapist linked it to patterns in the relationship",
    "R_VALIDATE": "therapist validated the client's position",
    "R_CLARIFY": "therapist clarified a misunderstanding",
    "R_DISCLOSE": "therapist disclosed their own experience",
    "R_CHANGE_TASK": "therapist changed the task",
    "R_RATIONALE": "therapist explained the rationale",
    "R_REDIRECT": "therapist refocused the work",
}
TENSION_WORDS = {0: "no", 1: "a little", 2: "some", 3: "quite a bit of", 4: "a lot of"}


@dataclass
class _Open:
    ep: CourseEpisode
    attended: int = 0
    seen: list[SessionRecord] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    last_number: int | None = None


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def _step_key(item: SessionRecord | Event, index: int) -> tuple[dt.date, int, int]:
    if isinstance(item, Event):
        return (item.date, 0, index)
    return (item.date or dt.date.max, 1, item.number)


def _timeline(records: list[SessionRecord], events: list[Event]) -> list[SessionRecord | Event]:
    """Sessions and events in date order (sessions without dates stay in number order)."""
    if any(r.date is None for r in records):
        out: list[SessionRecord | Event] = list(records)
        for e in events:
            pos = next(
                (
                    i
                    for i, r in enumerate(out)
                    if isinstance(r, SessionRecord)
                    and e.session is not None
                    and r.number >= e.session
                ),
                len(out),
            )
            out.insert(pos, e)
        return out
    items: list[SessionRecord | Event] = [*records, *events]
    return [
        x
        for _, x in sorted(((_step_key(x, i), x) for i, x in enumerate(items)), key=lambda p: p[0])
    ]


def rupture_signals(
    rec: SessionRecord, running: list[float], sd: float, check: str = "alliance check"
) -> list[Signal]:
    """(source, kind hint, what) for each sign of strain in one session."""
    out: list[Signal] = []
    if rec.tension is not None and rec.tension >= TENSION_CLEAR:
        words = TENSION_WORDS.get(int(rec.tension), _fmt(rec.tension))
        out.append(
            (
                "rupture_check",
                rec.direction or "",
                f"client reported {words} tension with the therapist",
            )
        )
    if rec.alliance is not None and len(running) >= 2 and sd > 0:
        level = statistics.fmean(running)
        if rec.alliance <= level - sd:
            out.append(
                (
                    "alliance_check",
                    "",
                    f"{check} fell to {_fmt(rec.alliance)} (running mean {_fmt(level)})",
                )
            )
    n_c = sum(v for k, v in rec.markers.items() if k.startswith("C_"))
    n_w = sum(v for k, v in rec.markers.items() if k.startswith("W_"))
    if n_c + n_w >= MIN_MARKERS or rec.termination_talk:
        hint = "confrontation" if n_c > n_w else "withdrawal" if n_w > n_c else "mixed"
        what = f"{n_c} confrontation and {n_w} withdrawal marker(s)"
        if rec.termination_talk:
            what += ", talk of ending therapy"
        out.append(("transcript", hint, what))
    for e in rec.in_session_episodes:
        if e["salience"] >= 3 and e["resolution"] in ("unresolved", "not_addressed"):
            out.append(
                (
                    "transcript",
                    str(e["kind"]),
                    f"in-session {e['kind']} episode left {e['resolution']}",
                )
            )
    return out


def _settled(rec: SessionRecord, pre: float | None, sd: float) -> bool:
    has_data = rec.alliance is not None or rec.tension is not None or rec.transcript is not None
    no_strain = (
        rec.tension is None
        or rec.tension == 0
        or (
            rec.tension < TENSION_CLEAR
            and rec.tension_resolved is not None
            and rec.tension_resolved >= SETTLED
        )
    )
    back = rec.alliance is None or pre is None or rec.alliance >= pre - 0.5 * sd
    in_session = all(
        e["resolution"] in ("resolved", "partially_resolved") or e["salience"] < 3
        for e in rec.in_session_episodes
    )
    return has_data and no_strain and back and in_session


def build_episodes(
    records: list[SessionRecord],
    events: list[Event],
    *,
    unresolved_after: int = UNRESOLVED_AFTER,
    alliance_unit: float = 1.0,
    alliance_name: str = "alliance check",
) -> list[CourseEpisode]:
    """``alliance_unit``: a tenth of the alliance instrument's range (1 for the 0–10
    check), the size of the point-sized steps below on other scales; ``alliance_name``
    names the series in the timeline."""
    alliance_all = [r.alliance for r in records if r.alliance is not None]
    sd = statistics.stdev(alliance_all) if len(alliance_all) > 2 else 0.0
    episodes: list[CourseEpisode] = []
    active: _Open | None = None
    running: list[float] = []
    pre_by_id: dict[str, list[float]] = {}

    def open_episode(opened_by: OpenedBy, number: int | None, date: dt.date | None) -> _Open:
        ep = CourseEpisode(
            id=f"E{len(episodes) + 1}",
            kind="unknown",
            opened_by=opened_by,
            state="open",
            start_session=number,
            start_date=date,
            pre_alliance=round(statistics.fmean(running[-3:]), 2) if running else None,
        )
        episodes.append(ep)
        pre_by_id[ep.id] = list(running[-3:])
        return _Open(ep)

    for step in _timeline(records, events):
        if isinstance(step, Event):
            entry = TimelineEntry(
                session=step.session,
                date=step.date,
                source="event",
                what=step.kind.replace("_", " "),
            )
            if step.kind == "therapist_missed":
                entry.what = f"therapist missed the appointment on {step.date}"
                if active is None:
                    active = open_episode("therapist_failure", None, step.date)
                active.ep.acknowledged = None
                active.kinds.append("therapist_failure")
            if active is not None:
                active.ep.timeline.append(entry)
                if step.kind == "therapy_ended":
                    active.ep.state = "ended_therapy"
                    active.ep.end_date = step.date
                    active = None
            continue
        rec = step
        signals = rupture_signals(rec, running, sd, alliance_name)
        if active is None and signals:
            active = open_episode(OPENED_BY.get(signals[0][0], "transcript"), rec.number, rec.date)
        if active is not None:
            _feed(active, rec, signals)
            pre = active.ep.pre_alliance
            same_session = active.ep.start_session == rec.number
            settled_now = _settled(rec, pre, sd) and not signals
            settled_in_session = (
                same_session
                and (rec.tension_resolved or 0) >= SETTLED
                and not any(s[0] != "rupture_check" for s in signals)
            )
            if settled_now or settled_in_session:
                _close(active, rec, alliance_name)
                active = None
        if rec.alliance is not None:
            running.append(rec.alliance)
    if (
        active is not None
        and active.attended >= unresolved_after
        and not _progressing(active, alliance_unit)
    ):
        active.ep.state = "unresolved"
    for ep in episodes:
        _post_alliance(ep, records, pre_by_id.get(ep.id, []), alliance_unit)
    return episodes


def _feed(active: _Open, rec: SessionRecord, signals: list[Signal]) -> None:
    ep = active.ep
    active.attended += 1
    active.seen.append(rec)
    for source, hint, what in signals:
        ep.timeline.append(
            TimelineEntry(session=rec.number, date=rec.date, source=source, what=what)
        )
        if hint:
            active.kinds.append(hint)
    if rec.client_note:
        ep.timeline.append(
            TimelineEntry(
                session=rec.number,
                date=rec.date,
                source="rupture_check",
                what="client left a note for the therapist",
            )
        )
    new_moves = [m for m in rec.repairs if m not in ep.repair_moves]
    ep.repair_moves.extend(dict.fromkeys(new_moves))
    for m in dict.fromkeys(rec.repairs):
        ep.timeline.append(
            TimelineEntry(
                session=rec.number,
                date=rec.date,
                source="transcript",
                what=f"{m}: {REPAIR_LABELS.get(m, 'repair move')}",
            )
        )
    if ep.opened_by == "therapist_failure" and rec.transcript is not None and not ep.acknowledged:
        ep.acknowledged = "R_ACKNOWLEDGE" in rec.repairs
    if ep.start_session is None:
        ep.start_session = rec.number
    elif rec.number != ep.start_session and (signals or rec.repairs) and ep.state == "open":
        ep.state = "working_through"
    ep.kind = _kind(active.kinds)
    ep.end_session = rec.number
    ep.sessions_spanned = active.attended


def _progressing(active: _Open, unit: float = 1.0) -> bool:
    """Signs that a long episode is settling: less strain, alliance climbing, repair work."""
    last = active.seen[-1]
    tensions = [r.tension for r in active.seen if r.tension is not None]
    alliance = [r.alliance for r in active.seen if r.alliance is not None]
    return bool(
        (last.tension is not None and tensions and last.tension < max(tensions))
        or (last.alliance is not None and alliance and last.alliance >= min(alliance) + unit)
        or (last.tension_resolved is not None and last.tension_resolved >= 2)
        or last.repairs
    )


def _kind(hints: list[str]) -> EpisodeKind:
    c = sum(h in ("confrontation", "mixed") for h in hints)
    w = sum(h in ("withdrawal", "mixed") for h in hints)
    if not c and not w:
        return "unknown"
    if c and w and min(c, w) * 2 >= max(c, w):
        return "mixed"
    return "confrontation" if c >= w else "withdrawal"


def _close(active: _Open, rec: SessionRecord, check: str = "alliance check") -> None:
    ep = active.ep
    ep.state = "resolved"
    ep.end_session = rec.number
    ep.end_date = rec.date
    what = "no strain reported" if not rec.tension else "strain reported as settled"
    if rec.alliance is not None:
        what += f"; {check} {_fmt(rec.alliance)}"
    ep.timeline.append(
        TimelineEntry(
            session=rec.number,
            date=rec.date,
            source="rupture_check" if rec.tension is not None else "alliance_check",
            what=f"resolved: {what}",
        )
    )
    ep.sessions_spanned = active.attended


def _post_alliance(
    ep: CourseEpisode, records: list[SessionRecord], pre_scores: list[float], unit: float = 1.0
) -> None:
    if ep.state != "resolved" or ep.end_session is None or ep.pre_alliance is None:
        return
    after = [r.alliance for r in records if r.number >= ep.end_session and r.alliance is not None][
        :3
    ]
    if not after:
        return
    ep.post_alliance = round(statistics.fmean(after), 2)
    spread = statistics.stdev(pre_scores) if len(pre_scores) > 1 else 0.0
    if ep.post_alliance >= ep.pre_alliance + max(0.5 * unit, spread):
        ep.state = "enhanced"
        ep.timeline.append(
            TimelineEntry(
                session=ep.end_session,
                date=ep.end_date,
                source="alliance_check",
                what=f"alliance after ({_fmt(ep.post_alliance)}) above its level "
                f"before ({_fmt(ep.pre_alliance)})",
            )
        )
