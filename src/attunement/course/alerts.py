"""Alerts: observations with evidence, weighted by the client's context.

Each alert has a base priority set by the evidence alone. Context — the second seed
essay's factors — then moves relational alerts (episodes, therapist failures, dropout)
up or down one step each, clamped to low..high, and changes the wording; it never changes
the evidence or the reasons:

* alliance is new (fewer than ``NEW_WEEKS`` weeks in treatment, or fewer than
  ``NEW_SESSIONS`` sessions before the episode) → up;
* alliance before the episode was weak (< 6 on the 0–10 check; an instrument's own
  ``[alliance]`` levels on its own scale, e.g. the SRS: < 36 of 40) → up;
  strong (≥ 8; none for an instrument without a strong level) *and* earlier ruptures
  were repaired → down;
* an earlier rupture was left unresolved → up;
* a clinician-recorded history of neglect or abuse → up; a fragility note → up;
* clinician sensitivity ``high`` → up, ``low`` → down.

An alliance instrument that gives its own levels (the SRS) also raises an ``alliance``
alert while its latest score is below its weak level ("SRS below 36"), with the scores as
evidence; each alliance instrument is judged on its own scale.

Alerts that report something already repaired (base priority ``low``) are not weighed, and
safety flags (e.g. PHQ-9 item 9) are never moved down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from attunement.course.context import ClientContext, Event
from attunement.course.model import (
    Alert,
    CourseEpisode,
    DropoutRisk,
    Priority,
    SessionRecord,
    Trajectory,
)
from attunement.course.records import AllianceScale
from attunement.measures.instruments import AllianceLevels

LEVELS: tuple[Priority, ...] = ("low", "medium", "high")
NEW_WEEKS = 8
NEW_SESSIONS = 6
WEAK_ALLIANCE = 6.0
STRONG_ALLIANCE = 8.0
#: alert kinds that call for relational attention; context weighs these (when not low)
RELATIONAL = frozenset({"episode", "therapist_failure", "dropout", "alliance"})
EVENT_LABELS = {
    "therapist_missed": "therapist-missed appointment",
    "therapist_cancelled": "therapist cancelled",
    "client_cancelled": "client cancelled",
    "client_no_show": "client did not attend",
    "therapy_ended": "therapy ended",
}


def context_factors(
    ctx: ClientContext,
    ep: CourseEpisode | None,
    earlier: list[CourseEpisode],
    when: dt.date | None,
    sessions_before: int,
    scale: AllianceScale | None = None,
) -> list[tuple[int, str]]:
    """(+1/−1, reason) for each context factor that applies; ``scale`` gives the weak
    and strong levels (the 0–10 check's 6 and 8 without one)."""
    out: list[tuple[int, str]] = []
    if ctx.treatment_start and when:
        weeks = (when - ctx.treatment_start).days // 7
        if weeks < NEW_WEEKS:
            out.append((1, f"alliance is new ({weeks} weeks in treatment)"))
    elif sessions_before < NEW_SESSIONS:
        out.append((1, f"alliance is new ({sessions_before} sessions so far)"))
    pre = ep.pre_alliance if ep else None
    repaired = [e for e in earlier if e.state in ("resolved", "enhanced")]
    weak: float | None = WEAK_ALLIANCE
    strong: float | None = STRONG_ALLIANCE
    of = "/10"
    if scale is not None and not scale.legacy:
        levels = scale.levels
        weak = levels.weak_below if levels else None
        strong = levels.strong_from if levels else None
        of = f" of {scale.high:g} on the {scale.name}"
    if pre is not None and weak is not None and pre < weak:
        below = "" if of == "/10" else f", below {weak:g}"
        out.append((1, f"alliance was weak before ({pre:.1f}{of}{below})"))
    elif pre is not None and strong is not None and pre >= strong and repaired:
        out.append((-1, f"strong alliance before ({pre:.1f}{of}) with earlier ruptures repaired"))
    if any(e.state in ("unresolved", "ended_therapy") for e in earlier):
        out.append((1, "an earlier rupture was left unresolved"))
    if ctx.history_neglect_or_abuse:
        out.append((1, "clinician recorded a history of neglect or abuse"))
    if ctx.fragile:
        out.append((1, "clinician noted the client may be fragile"))
    if ctx.sensitivity == "high":
        out.append((1, "clinician set alert sensitivity to high"))
    elif ctx.sensitivity == "low":
        out.append((-1, "clinician set alert sensitivity to low"))
    return out


def weigh(alert: Alert, factors: list[tuple[int, str]]) -> Alert:
    """Apply context factors to a relational alert's priority and wording."""
    if alert.kind not in RELATIONAL or alert.base_priority == "low" or not factors:
        return alert
    idx = LEVELS.index(alert.base_priority) + sum(d for d, _ in factors)
    alert.priority = LEVELS[max(0, min(2, idx))]
    alert.context = [r for _, r in factors]
    if alert.priority == "high" and alert.base_priority != "high":
        alert.text += " Given the context, worth raising early in the next session."
    elif LEVELS.index(alert.priority) < LEVELS.index(alert.base_priority):
        alert.text += " Context suggests the relationship can absorb this; keep an eye on it."
    return alert


def _alliance_around(
    records: list[SessionRecord], date: dt.date
) -> tuple[SessionRecord | None, SessionRecord | None]:
    before = [r for r in records if r.date and r.date < date and r.alliance is not None]
    after = [r for r in records if r.date and r.date > date and r.alliance is not None]
    return (before[-1] if before else None, after[0] if after else None)


def build_alerts(
    ctx: ClientContext,
    records: list[SessionRecord],
    events: list[Event],
    episodes: list[CourseEpisode],
    trajectories: dict[str, Trajectory],
    dropout: DropoutRisk,
    *,
    alliance: AllianceScale | None = None,
    levels: Mapping[str, AllianceLevels] | None = None,
) -> list[Alert]:
    """``alliance``: the series the session rules read (see
    :func:`attunement.course.records.alliance_scale`); ``levels``: the alliance
    instruments that give their own ``[alliance]`` levels, by id."""
    alerts: list[Alert] = []
    check = "alliance check" if alliance is None or alliance.legacy else alliance.name

    def add(
        alert: Alert, ep: CourseEpisode | None, when: dt.date | None, session: int | None
    ) -> None:
        earlier = episodes[: episodes.index(ep)] if ep is not None else list(episodes)
        n_before = len([r for r in records if session is None or r.number < session])
        factors = context_factors(ctx, ep, earlier, when, n_before, alliance)
        alerts.append(weigh(alert, factors))

    for ev in events:
        if ev.kind != "therapist_missed":
            continue
        ep = next(
            (e for e in episodes if e.opened_by == "therapist_failure" and e.start_date == ev.date),
            None,
        )
        b, a = _alliance_around(records, ev.date)
        reasons = [f"therapist missed the appointment on {ev.date}"]
        text = f"Therapist-missed appointment on {ev.date}."
        if b and a and b.alliance is not None and a.alliance is not None:
            text = (
                f"{check[0].upper()}{check[1:]} fell from {b.alliance:.1f} to {a.alliance:.1f} "
                f"after session {b.number} "
                f"(therapist-missed appointment on {ev.date})."
            )
            reasons.append(
                f"{check} {b.alliance:.1f} at session {b.number}, "
                f"{a.alliance:.1f} at session {a.number}"
            )
        if ep is not None:
            reasons.append(f"episode {ep.id}: {ep.state.replace('_', ' ')}")
            if ep.acknowledged is False:
                reasons.append("no acknowledgement (R_ACKNOWLEDGE) seen in the transcripts since")
        base: Priority = (
            "medium" if ep is None or ep.state not in ("resolved", "enhanced") else "low"
        )
        add(
            Alert(
                id=f"A{len(alerts) + 1}",
                kind="therapist_failure",
                priority=base,
                base_priority=base,
                text=text,
                reasons=reasons,
                session=a.number if a else None,
                suggested_moves=[
                    "R_ACKNOWLEDGE",
                    "R_INVITE",
                    *(["R_LINK_HISTORY"] if ctx.history_neglect_or_abuse else []),
                ],
            ),
            ep,
            ev.date,
            a.number if a else None,
        )

    for ep in episodes:
        reasons = [
            f"session {t.session or '–'} ({t.date or 'no date'}), {t.source}: {t.what}"
            for t in ep.timeline
        ]
        span = (
            f"sessions {ep.start_session}–{ep.end_session}"
            if ep.end_session != ep.start_session
            else f"session {ep.start_session}"
        )
        states: dict[str, tuple[Priority, str]] = {
            "open": (
                "medium",
                f"Rupture episode {ep.id} ({ep.kind}) open since session {ep.start_session}.",
            ),
            "working_through": (
                "medium",
                f"Rupture episode {ep.id} ({ep.kind}) being worked through, {span}.",
            ),
            "unresolved": (
                "high",
                f"Rupture episode {ep.id} ({ep.kind}) still unresolved after "
                f"{ep.sessions_spanned} sessions ({span}).",
            ),
            "ended_therapy": (
                "high",
                f"Therapy ended while rupture episode {ep.id} ({ep.kind}) was open.",
            ),
            "resolved": ("low", f"Rupture episode {ep.id} ({ep.kind}) resolved over {span}."),
            "enhanced": (
                "low",
                f"Rupture episode {ep.id} ({ep.kind}) resolved over {span}; "
                "the alliance came back stronger "
                f"({ep.pre_alliance} before, {ep.post_alliance} after).",
            ),
        }
        base, text = states[ep.state]
        if ep.repair_moves:
            reasons.append("repair moves seen: " + ", ".join(ep.repair_moves))
        moves = (
            []
            if ep.state in ("resolved", "enhanced")
            else ["R_INVITE", "R_ACKNOWLEDGE", "R_VALIDATE"]
        )
        add(
            Alert(
                id=f"A{len(alerts) + 1}",
                kind="episode",
                priority=base,
                base_priority=base,
                text=text,
                reasons=reasons,
                session=ep.start_session,
                suggested_moves=moves,
            ),
            ep,
            ep.start_date,
            ep.start_session,
        )

    if dropout.level != "low":
        last = records[-1] if records else None
        reasons = [
            f"{c.name} (+{c.contribution:.2f}): {c.reason}"
            for c in dropout.components
            if c.contribution > 0
        ]
        add(
            Alert(
                id=f"A{len(alerts) + 1}",
                kind="dropout",
                priority=dropout.level,
                base_priority=dropout.level,
                text=f"Dropout warning signs add up to {dropout.score:.2f} ({dropout.level}).",
                reasons=reasons,
                session=last.number if last else None,
                suggested_moves=["R_INVITE", "E_EXPLORATION"],
            ),
            None,
            last.date if last else None,
            last.number if last else None,
        )

    for traj in trajectories.values():
        _outcome_alerts(traj, alerts, events)
        if traj.role == "alliance" and levels and traj.instrument in levels:
            found = _below_weak(traj, levels[traj.instrument], len(alerts) + 1)
            if found is not None:
                at = found.session
                add(found, None, next((p.date for p in traj.points if p.session == at), None), at)
    return sorted(alerts, key=lambda a: -LEVELS.index(a.priority))


def _between(traj: Trajectory, pre: int, post: int, events: list[Event]) -> str:
    dates = {p.session: p.date for p in traj.points}
    a, b = dates.get(pre), dates.get(post)
    if a is None or b is None:
        return ""
    hits = [e for e in events if a < e.date < b]
    return "".join(f" ({EVENT_LABELS[e.kind]} on {e.date})" for e in hits)


def _outcome_alerts(traj: Trajectory, alerts: list[Alert], events: list[Event]) -> None:
    for p in traj.points:
        for flag in p.score.flags:
            alerts.append(
                Alert(
                    id=f"A{len(alerts) + 1}",
                    kind="safety",
                    priority="high",
                    base_priority="high",
                    text=f"{traj.name} at session {p.session}: {flag}.",
                    reasons=[f"{traj.name} session {p.session} ({p.date})"],
                    session=p.session,
                )
            )
    if traj.role == "outcome" and traj.change and traj.change.status == "deteriorated":
        c = traj.change
        alerts.append(
            Alert(
                id=f"A{len(alerts) + 1}",
                kind="outcome",
                priority="medium",
                base_priority="medium",
                text=f"{traj.name} reliably worse: {c.baseline:g} → {c.current:g} (RCI {c.rci}).",
                reasons=[
                    f"|RCI| > 1.96 (Jacobson & Truax), baseline session {traj.points[0].session}"
                ],
            )
        )
    valid = [p for p in traj.points if p.score.total is not None]
    for shift, (kind, pre, post) in zip(traj.sudden, traj.sudden_sessions, strict=True):
        if kind != "loss":
            continue
        latest = valid[-1].score.total if valid else None
        worse_is_up = traj.higher_is == "worse"
        recovered = latest is not None and (
            latest <= shift.pre_score if worse_is_up else latest >= shift.pre_score
        )
        level: Priority = "low" if recovered else "medium"
        text = (
            f"Sudden loss on {traj.name} between sessions {pre} and {post}"
            f"{_between(traj, pre, post, events)}: {shift.pre_score:g} → {shift.post_score:g}"
        )
        text += f"; since back to {latest:g}." if recovered and latest is not None else "."
        alerts.append(
            Alert(
                id=f"A{len(alerts) + 1}",
                kind="outcome",
                priority=level,
                base_priority=level,
                text=text,
                session=post,
                reasons=[
                    f"Tang & DeRubeis criteria, mirror image: a change of {shift.magnitude:g} "
                    f"points, ≥ 25 % of the score before, stable shift (t = {shift.t:.2f})"
                ],
            )
        )


def _below_weak(traj: Trajectory, levels: AllianceLevels, n: int) -> Alert | None:
    """An alliance alert while the latest score is below the instrument's weak level:
    since which session, from what, with the scores as evidence."""
    valid = [p for p in traj.points if p.score.total is not None]
    weak = levels.weak_below
    if not valid or (valid[-1].score.total or 0.0) >= weak:
        return None
    start = len(valid) - 1
    while start > 0 and (valid[start - 1].score.total or 0.0) < weak:
        start -= 1
    last, first = valid[-1], valid[start]
    prev = valid[start - 1] if start > 0 else None
    since = f"since session {first.session}" if first is not last else f"at session {last.session}"
    text = f"{traj.name} below {weak:g} {since}: {last.score.total:g}"
    text += f" (down from {prev.score.total:g} at session {prev.session})." if prev else "."
    shown = [p for p in (prev, *valid[start:]) if p is not None]
    reasons = [f"{traj.name} {p.score.total:g} at session {p.session} ({p.date})" for p in shown]
    reasons.append(f"below {weak:g}" + (f": {levels.source}" if levels.source else ""))
    return Alert(
        id=f"A{n}",
        kind="alliance",
        priority="medium",
        base_priority="medium",
        text=text,
        reasons=reasons,
        session=last.session,
        suggested_moves=["R_INVITE", "E_EXPLORATION"],
    )
