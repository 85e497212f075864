"""A client's course, computed by ``attunement.course`` from what the store holds.

The stored questionnaire answers become the library's administrations and the analyzed
sessions its session models; :func:`attunement.course.compute_course` does all the
scoring, trajectories, episodes and alerts. Nothing is computed here.

In a case with members each person's answers are their own series: the library gets one
instrument per (instrument, member) — the same definition under the key
``<instrument>_m<member id>``, named "<instrument> — <member label>", with the cutoff
of the member's age band (the ORS: 25/28/32). The course engine reads one alliance
series and one rupture series per case; when several people answer alliance (the check,
the SRS) or rupture questionnaires, their series are charted but not fed to those
session-level rules (role "other"), and the course says so in its warnings. One person
with two alliance instruments is the library's to settle (it reads one, judges each on
its own scale, and says so).

Appointments whose outcome says who (:data:`attunement.store.schedule.COURSE_EVENTS`:
the client did not come or cancelled, the therapist cancelled or missed it) become the
library's course events, dated in the clinic's time zone (``ATTUNEMENT_TIMEZONE``) — the
same as ``[[events]]`` in a client folder's ``client.toml``; the library decides what
they mean for episodes, dropout risk and alerts. Attended and scheduled appointments are
not events, nor are the old "cancelled" / "missed" rows that do not say who. Notes are
not passed (they are not read here at all).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from attunement.store import cases, checks, mail, repo, schedule
from attunement.store.tables_cases import AGE_BANDS

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session as DbSession

    from attunement.course import ClientCourse
    from attunement.course.context import Event
    from attunement.measures.instruments import AgeBand, Instrument
    from attunement.measures.responses import Administration
    from attunement.store.crypto import Keyring

SESSION_ROLES = ("alliance", "rupture")


@dataclass
class Series:
    """What the library is given: administrations keyed by series, and the definitions."""

    administrations: list[Administration]
    instruments: dict[str, Instrument]
    #: series key → (bundled instrument id, member id or None)
    origin: dict[str, tuple[str, int | None]]
    warnings: list[str]


def series_key(instrument: str, member_id: int | None) -> str:
    return instrument if member_id is None else f"{instrument}_m{member_id}"


def case_series(db: DbSession, keys: Keyring, client_id: int) -> Series:
    """The client's stored answers as the library's administrations, one series per
    (instrument, person)."""
    base = checks.instruments()
    members = {m.id: m for m in cases.members_of(db, keys, client_id)}
    pairs = checks.member_administrations(db, keys, client_id)
    keys_of = {series_key(a.instrument, mid): (a.instrument, mid) for mid, a in pairs}
    # how many people (the client, each member) give scores of each role: with the SRS
    # and the alliance check both "alliance", one person may give two series (the library
    # then reads one and says so), two people must not share the session-level rules
    people = Counter(role for role, _m in {(base[i].role, m) for i, m in keys_of.values()})
    instruments: dict[str, Instrument] = {}
    warnings: list[str] = []
    for key, (inst_id, mid) in sorted(keys_of.items()):
        inst = base[inst_id]
        if mid is None:
            instruments[key] = inst
            continue
        member = members[mid]
        update: dict[str, object] = {"id": key, "name": f"{inst.name} — {member.label}"}
        if inst.role in SESSION_ROLES and people[inst.role] > 1:
            update["role"] = "other"
            note = (
                f"The {inst.role} questionnaires are answered by several people in this case: "
                "each person's series is charted, and none feeds the session-level alliance "
                "and rupture rules (they read one series per case)."
            )
            if note not in warnings:
                warnings.append(note)
        instruments[key] = inst.for_age_band(_band(member.age_band)).model_copy(update=update)
    admins = [a.model_copy(update={"instrument": series_key(a.instrument, m)}) for m, a in pairs]
    admins.sort(key=lambda a: (a.session, a.instrument))
    return Series(admins, instruments, keys_of, warnings)


def _band(value: str | None) -> AgeBand | None:
    return cast("AgeBand | None", value) if value in AGE_BANDS else None


def appointment_events(db: DbSession, client_id: int, tz: ZoneInfo | None = None) -> list[Event]:
    """The client's appointments that are course events, as the library's events (the
    appointment's local date in ``tz``, the clinic's zone by default)."""
    from attunement.course.context import Event

    zone = tz or mail.MailSettings.from_env().zone()
    return [
        Event(date=a.starts_at.astimezone(zone).date(), kind=schedule.COURSE_EVENTS[a.status])
        for a in schedule.appointments_of(db, None, client_id)
        if a.status in schedule.COURSE_EVENTS
    ]


def client_course(db: DbSession, keys: Keyring, client: repo.ClientView) -> ClientCourse | None:
    """None while the client has neither answers nor analyzed, numbered sessions."""
    from attunement.course import ClientContext, ClientInputs, compute_course
    from attunement.model import Session

    sessions = {}
    for s in repo.sessions_of(db, keys, client.id):
        if s.job_status == "done" and s.number is not None:
            result = repo.session_result(db, keys, s.id)
            if result is not None:
                sessions[s.number] = Session.model_validate_json(result)
    series = case_series(db, keys, client.id)
    if not sessions and not series.administrations:
        return None
    events = appointment_events(db, client.id)
    context = ClientContext(
        client_id=f"client-{client.id}",
        treatment_start=client.start_date,
        history_neglect_or_abuse=client.history_neglect_or_abuse,
        fragile=client.fragile,
        sensitivity=client.sensitivity,
        events=events,
    )
    inputs = ClientInputs(
        folder=Path(f"client-{client.id}"),
        context=context,
        instruments={**checks.instruments(), **series.instruments},
        administrations=series.administrations,
        sessions=sessions,
        warnings=series.warnings,
    )
    return compute_course(inputs)
