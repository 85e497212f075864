"""Which reminders are due (a pure function of the time, rules and appointments, with
fixed times), and the iCal text of a calendar feed (parsed back with ``icalendar``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from attunement.store.ical import calendar, fold, ical_text
from attunement.store.reminders import Rule, Slot, due_reminders
from attunement.store.schedule import CANCELLED_STATES, AppointmentView

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
T0 = dt.datetime(2026, 3, 1, tzinfo=UTC)  # rules were turned on before everything below


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def keys(now: dt.datetime, rules: list[Rule], slots: list[Slot], **kw: object) -> list[str]:
    reachable = kw.pop("reachable", {7})
    found = due_reminders(now, rules, slots, tz=BERLIN, reachable=reachable, **kw)  # type: ignore[arg-type]
    return [d.key for d in found]


APPT_RULE = Rule(1, 7, "appointment", T0, hours_before=24)
SLOT = Slot(40, 7, at("2026-03-10T10:00"), 50, "scheduled")


def test_appointment_reminder_window() -> None:
    rules = [APPT_RULE]
    assert keys(at("2026-03-09T09:59"), rules, [SLOT]) == []
    assert keys(at("2026-03-09T10:00"), rules, [SLOT]) == ["appt:40"]
    assert keys(at("2026-03-10T09:59"), rules, [SLOT]) == ["appt:40"]  # made late: still sent
    assert keys(at("2026-03-10T10:00"), rules, [SLOT]) == []  # it has begun


def test_appointment_reminder_only_when_wanted() -> None:
    now = at("2026-03-09T12:00")
    cancelled = [Slot(40, 7, SLOT.starts_at, 50, s) for s in CANCELLED_STATES]
    other_client = Slot(41, 8, SLOT.starts_at, 50, "scheduled")
    assert keys(now, [APPT_RULE], [*cancelled, other_client]) == []
    assert keys(now, [APPT_RULE], [SLOT], reachable=set()) == []  # no address or no consent
    assert keys(now, [APPT_RULE], [SLOT], done={"appt:40"}) == []  # queued already
    assert keys(now, [], [SLOT]) == []


def test_check_after_an_attended_session() -> None:
    rule = Rule(2, 7, "check_after_session", T0, instrument="alliance_check")
    attended = Slot(40, 7, at("2026-03-10T10:00"), 50, "attended")
    assert keys(at("2026-03-10T10:49"), [rule], [attended]) == []  # still in session
    assert keys(at("2026-03-10T10:50"), [rule], [attended]) == ["after:40"]
    assert keys(at("2026-03-12T10:49"), [rule], [attended]) == ["after:40"]
    assert keys(at("2026-03-12T10:50"), [rule], [attended]) == []  # two days on: too late
    for status in ("client_no_show", "therapist_missed", "missed"):  # "missed": an old row
        missed = Slot(40, 7, attended.starts_at, 50, status)
        assert keys(at("2026-03-10T11:00"), [rule], [missed]) == []
    late_rule = Rule(2, 7, "check_after_session", at("2026-03-10T11:00"), instrument="phq9")
    assert keys(at("2026-03-10T11:30"), [late_rule], [attended]) == []  # ended before it
    [due] = due_reminders(at("2026-03-10T11:00"), [rule], [attended], tz=BERLIN, reachable={7})
    assert due.instrument == "alliance_check" and due.appointment == attended


def test_weekly_check_in_the_clinic_time_zone() -> None:
    # Mondays at 09:00 in Berlin: 08:00 UTC in winter (2026-03-09 is a Monday, week 11)
    rule = Rule(3, 7, "check_weekly", T0, weekday=0, hour=9, instrument="phq9")
    assert keys(at("2026-03-09T07:59"), [rule], []) == []
    assert keys(at("2026-03-09T08:00"), [rule], []) == ["weekly:3:2026-W11"]
    assert keys(at("2026-03-10T07:59"), [rule], []) == ["weekly:3:2026-W11"]
    assert keys(at("2026-03-10T08:00"), [rule], []) == []  # a day late: wait for next week
    assert keys(at("2026-03-16T08:00"), [rule], []) == ["weekly:3:2026-W12"]
    # summer time: 09:00 in Berlin is 07:00 UTC
    assert keys(at("2026-03-30T07:00"), [rule], []) == ["weekly:3:2026-W14"]
    fresh = Rule(3, 7, "check_weekly", at("2026-03-09T08:30"), weekday=0, hour=9, instrument="x")
    assert keys(at("2026-03-09T09:00"), [fresh], []) == []  # turned on after this week's


def test_weekly_check_across_the_week_boundary() -> None:
    # Sundays at 23:00 Berlin; on Monday 00:30 Berlin, last week's moment is still due
    rule = Rule(4, 7, "check_weekly", T0, weekday=6, hour=23, instrument="phq9")
    assert keys(at("2026-03-08T23:30"), [rule], []) == ["weekly:4:2026-W10"]


# --- iCal ---------------------------------------------------------------------------


def view(i: int, client: int, start: str, status: str = "scheduled") -> AppointmentView:
    s = at(start)
    return AppointmentView(i, client, 1, s, 50, status, s, "secret note", None)


def test_ical_parses_back_with_stable_uids() -> None:
    icalendar = pytest.importorskip("icalendar")
    appts = [
        view(5, 12, "2026-03-10T10:00"),
        view(6, 13, "2026-03-11T15:30", "therapist_cancelled"),
    ]
    now = at("2026-03-01T12:00")
    text = calendar(appts, now=now, clinic="Harbor Clinic")
    cal = icalendar.Calendar.from_ical(text)
    events = [c for c in cal.walk() if c.name == "VEVENT"]
    assert [str(e["UID"]) for e in events] == [
        "appointment-5@attunement",
        "appointment-6@attunement",
    ]
    first = events[0]
    assert first.decoded("DTSTART") == at("2026-03-10T10:00")
    assert first.decoded("DTEND") == at("2026-03-10T10:50")
    assert first.decoded("DTSTAMP") == now
    assert str(first["SUMMARY"]) == "Session (Attunement #12)"
    assert str(events[1]["STATUS"]) == "CANCELLED"
    assert "secret note" not in text  # notes never leave the app
    later = calendar(appts, now=now + dt.timedelta(hours=1), clinic="Harbor Clinic")
    assert [line for line in later.split("\r\n") if line.startswith("UID")] == [
        line for line in text.split("\r\n") if line.startswith("UID")
    ]


def test_ical_lines_crlf_folded_and_escaped() -> None:
    icalendar = pytest.importorskip("icalendar")
    clinic = "Praxis für Psychotherapie; Müller, Schäfer & Co — Zweigstelle Nord-Ost " * 2
    text = calendar([view(1, 2, "2026-03-10T10:00")], now=at("2026-03-01T00:00"), clinic=clinic)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the long name was folded
    cal = icalendar.Calendar.from_ical(text)
    raw = str(cal["X-WR-CALNAME"])  # an X- property: icalendar keeps it escaped
    assert "\\;" in raw and "\\," in raw
    from icalendar.parser import unescape_backslash

    assert unescape_backslash(raw) == clinic + " sessions"  # escaping round-trips


def test_fold_never_splits_a_character() -> None:
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    parts = folded.split("\r\n ")
    assert "".join(parts) == line
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert ical_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
