"""The demo clinic's schedule, cases, check links and supervision (``clinic.toml``).

Everything goes through the features' own store functions (``store.schedule``,
``store.cases``, ``store.checks``, ``store.supervision``), as the pages would write it:
appointments are booked a week before they happen and marked when they end (the
functions take ``now``), each session of a client was an attended appointment at the
client's usual ``time``, couple members get their own answers and check links, and a
supervisor's code review and comments are added once the sessions are analyzed (they
refer to turns of the stored analysis).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from attunement.errors import AttunementError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session as DbSession

    from attunement.measures.instruments import Instrument
    from attunement.store.crypto import Keyring
    from attunement.store.db import Store

#: clinic.toml's series keys → the bundled instrument they are answers of
SERIES = {
    "phq9": "phq9",
    "gad7": "gad7",
    "alliance": "alliance_check",
    "tension": "rupture_check",
    "srs": "srs",
    "ors": "ors",
}
DEFAULT_MINUTES = 50
BOOKED_DAYS_BEFORE = 7


class DemoFeatureError(AttunementError):
    """A part of clinic.toml does not fit the features (a demo author's mistake)."""


@dataclass
class Counts:
    appointments: int = 0
    members: int = 0
    links: int = 0
    corrections: int = 0
    comments: int = 0
    #: client key → session number → session id (for the reviews after analysis)
    sessions: dict[str, dict[int, int]] = field(default_factory=dict)


def shift_days(desc: dict[str, Any], today: dt.date) -> int:
    """Days to add to every date of the story so that its ``today`` is ``today``."""
    told = desc.get("today")
    return (today - dt.date.fromisoformat(told)).days if told else 0


def shell_answers(instrument: Instrument, total: float) -> dict[str, float]:
    """Scores of a score-only shell (e.g. four 0–10 marks, one decimal) summing to
    ``total``, as even as possible."""
    from attunement.web.demo import spread

    scale = instrument.scale
    if scale is None or instrument.scoring.method != "sum":
        raise DemoFeatureError("only summed score-only shells are spread", where="clinic.toml")
    items = [i for i in instrument.items if i.type == "scale"]
    steps = round((total - scale.min * len(items)) / scale.step)
    top = round((scale.max - scale.min) / scale.step)
    values = spread(steps, len(items), top)
    return {i.id: round(scale.min + v * scale.step, 6) for i, v in zip(items, values, strict=True)}


def answers_for(
    instrument: Instrument, total: float, *, risk_item: bool = False
) -> dict[str, float]:
    from attunement.web.demo import item_answers

    if instrument.score_only:
        return shell_answers(instrument, total)
    return item_answers(instrument, int(total), risk_item=risk_item)


# --- before analysis: schedule, members, links ----------------------------------------


def add_schedule(
    db: DbSession,
    keys: Keyring,
    c: dict[str, Any],
    client_id: int,
    *,
    zone: ZoneInfo,
    now: dt.datetime,
    counts: Counts,
) -> None:
    """The client's appointments (every session attended, plus clinic.toml's; dates
    already moved to the build's time), and the e-mail contact and reminder when given."""
    from attunement.store import schedule
    from attunement.store.tables_schedule import APPOINTMENT_OUTCOMES

    wanted: list[dict[str, Any]] = [
        {"date": s["date"], "outcome": "attended"} for s in c["sessions"]
    ] + list(c.get("appointments", []))
    for a in wanted:
        starts = schedule.local_to_utc(a["date"], a.get("time", c["time"]), zone)
        minutes = int(a.get("minutes", DEFAULT_MINUTES))
        outcome = a.get("outcome")
        if outcome is not None and outcome not in APPOINTMENT_OUTCOMES:
            raise DemoFeatureError("not an appointment outcome", where="clinic.toml")
        booked = min(now, starts - dt.timedelta(days=BOOKED_DAYS_BEFORE))
        view = schedule.create_appointment(
            db,
            keys,
            client_id=client_id,
            starts_at=starts,
            minutes=minutes,
            now=booked,
            note=a.get("note"),
        )
        if outcome is not None:
            cancelled = outcome.endswith("_cancelled")
            marked = starts - dt.timedelta(days=1) if cancelled else view.ends_at
            if marked > now:
                raise DemoFeatureError("an outcome for a coming appointment", where="clinic.toml")
            schedule.set_status(db, view.id, outcome, marked)
        counts.appointments += 1
    if c.get("email"):
        schedule.set_contact(db, keys, client_id, email=c["email"], consent=True, now=now)
        if c.get("reminder_hours"):
            schedule.set_rule(
                db,
                client_id,
                "appointment",
                active=True,
                now=now,
                hours_before=int(c["reminder_hours"]),
            )


def add_members(
    db: DbSession,
    keys: Keyring,
    c: dict[str, Any],
    client_id: int,
    *,
    answer_date: Any,
    counts: Counts,
) -> tuple[dict[str, int], int]:
    """The case's people and each person's own answers: (label → member id, answers)."""
    from attunement.store import cases, checks

    instruments = checks.instruments()
    ids: dict[str, int] = {}
    answers = 0
    for m in c.get("members", []):
        member = cases.add_member(
            db,
            keys,
            client_id=client_id,
            label=m["label"],
            role=m["role"],
            age_band=m.get("age_band"),
        )
        ids[m["label"]] = member.id
        counts.members += 1
        for key, inst_id in SERIES.items():
            for number, total in enumerate(m.get(key, []), start=1):
                checks.add_response(
                    db,
                    keys,
                    client_id=client_id,
                    instrument=instruments[inst_id],
                    session_number=number,
                    date=answer_date(c, number),
                    answers=answers_for(instruments[inst_id], float(total)),
                    member_id=member.id,
                )
                answers += 1
    return ids, answers


def add_links(
    db: DbSession,
    c: dict[str, Any],
    client_id: int,
    *,
    created_by: int,
    members: dict[str, int],
    now: dt.datetime,
    counts: Counts,
) -> None:
    """Unanswered check links: open ones, and ones sent ``sent_days_ago`` that expired.
    The raw tokens are not kept: nobody answers a demo link."""
    from attunement.store import checks

    for link in c.get("links", []):
        hours = int(link.get("hours", checks.DEFAULT_HOURS))
        _token, row = checks.create_link(
            db,
            client_id=client_id,
            created_by=created_by,
            instrument=link["instrument"],
            session_number=int(link["session"]),
            hours=hours,
            member_id=members[link["member"]] if "member" in link else None,
        )
        if "sent_days_ago" in link:  # the story's time: sent then, never answered
            row.created_at = now - dt.timedelta(days=int(link["sent_days_ago"]))
            row.expires_at = row.created_at + dt.timedelta(hours=hours)
        counts.links += 1
    db.flush()


# --- after analysis: supervision ------------------------------------------------------


def add_supervision(store: Store, desc: dict[str, Any], counts: Counts) -> None:
    """The reviewers' codes on every turn of the reviewed sessions, and the comments."""
    from attunement.store import audit, repo
    from attunement.store import supervision as sv
    from attunement.store.supervision_codes import correctable_codes

    with store.tx() as db:
        for c in desc["clients"]:
            sessions = counts.sessions.get(c["key"], {})
            for review in c.get("reviews", []):
                session_id = sessions[int(review["session"])]
                found = sv.analysis(db, store.keys, session_id)
                author = repo.user_by_name(db, review["reviewer"])
                if found is None or author is None:
                    raise DemoFeatureError("a review needs an analyzed session and a user")
                present = {int(k): set(v) for k, v in review.get("codes", {}).items()}
                decisions = [
                    sv.Decision(u.id, code, "present" if code in present.get(n, ()) else "absent")
                    for n, u in enumerate(found.utterances, start=1)
                    for code in correctable_codes(u.role.value)
                ]
                counts.corrections += sv.add_corrections(
                    db, found, session_id=session_id, author=author, decisions=decisions
                )
                _demo_audit(db, audit, "code_correction.create", "session", session_id)
            for comment in c.get("comments", []):
                session_id = sessions[int(comment["session"])]
                found = sv.analysis(db, store.keys, session_id)
                author = repo.user_by_name(db, comment["author"])
                if found is None or author is None:
                    raise DemoFeatureError("a comment needs an analyzed session and a user")
                turn = comment.get("turn")
                comment_id = sv.add_comment(
                    db,
                    store.keys,
                    session_id=session_id,
                    author_id=author.id,
                    body=" ".join(comment["body"].split()),
                    utterance_id=found.utterances[int(turn) - 1].id if turn else None,
                )
                counts.comments += 1
                _demo_audit(db, audit, "session_comment.create", "session_comment", comment_id)


def _demo_audit(db: DbSession, audit: Any, action: str, kind: str, object_id: int) -> None:
    audit.append(
        db, actor_id=None, actor="demo", action=action, object_type=kind, object_id=object_id
    )
