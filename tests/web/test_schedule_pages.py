"""The scheduling pages on the demo-sized world (SQLite and PostgreSQL): the client
page's schedule panel and its "needs attention" box, the forms, ``/schedule`` per role,
the calendar link (shown once, public .ics, audited, revocable) and the JSON API."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from clinic_helpers import World, csrf_of, page_csrf
from fastapi.testclient import TestClient

from attunement.store import schedule
from attunement.store.tables import AuditEntry
from attunement.store.tables_schedule import ClientContact, ReminderRule


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _actions(world: World, actor: str) -> list[str]:
    with world.store.tx() as db:
        q = sa.select(AuditEntry.action).where(AuditEntry.actor == actor)
        return list(db.scalars(q).all())


def test_add_appointment_from_the_client_page(world: World) -> None:
    alice = world.browser("alice")
    cid = world.clients["alice"]
    page = alice.get(f"/clients/{cid}")
    assert page.status_code == 200 and 'id="schedule"' in page.text
    day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    r = alice.post(
        f"/clients/{cid}/appointments",
        data={
            "csrf_token": csrf_of(page.text),
            "date": day,
            "time": "14:30",
            "minutes": "45",
            "note": "bring the worksheet",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/clients/{cid}#schedule"
    page = alice.get(f"/clients/{cid}").text
    assert f"{day} 14:30" in page and "45 min" in page and "bring the worksheet" in page
    assert "appointment.create" in _actions(world, "alice")


def test_refused_appointment_names_the_field_and_keeps_the_form(world: World) -> None:
    alice = world.browser("alice")
    cid = world.clients["alice"]
    r = alice.post(
        f"/clients/{cid}/appointments",
        data={
            "csrf_token": page_csrf(alice),
            "date": "2026-13-45",
            "time": "09:00",
            "minutes": "50",
            "note": "keep me",
        },
    )
    assert r.status_code == 400
    assert "date: expected a date like 2026-03-09" in r.text
    assert 'value="keep me"' in r.text  # what was typed is shown again
    r = alice.post(
        f"/clients/{cid}/appointments",
        data={
            "csrf_token": page_csrf(alice),
            "date": dt.date.today().isoformat(),
            "time": "09:00",
            "minutes": "1000",
        },
    )
    assert r.status_code == 400 and "minutes: must be between 5 and 480" in r.text


def test_forgotten_appointment_needs_attention_until_marked(world: World) -> None:
    cid = world.clients["alice"]
    with world.store.tx() as db:
        appt = schedule.create_appointment(
            db,
            world.store.keys,
            client_id=cid,
            starts_at=_now() - dt.timedelta(hours=3),
            minutes=50,
            now=_now(),
        )
    alice = world.browser("alice")
    page = alice.get(f"/clients/{cid}").text
    assert "passed without being marked" in page
    assert page.index("passed without being marked") < page.index("<h2>Sessions</h2>")
    assert f'action="/appointments/{appt.id}/status"' in page
    sam_page = world.browser("sam").get(f"/clients/{world.clients['tess']}").text
    assert "/status" not in sam_page  # a supervisor reads, never marks
    r = alice.post(
        f"/appointments/{appt.id}/status",
        data={"csrf_token": page_csrf(alice), "status": "attended"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "passed without being marked" not in alice.get(f"/clients/{cid}").text
    assert "appointment.attended" in _actions(world, "alice")
    r = alice.post(
        f"/appointments/{appt.id}/status",
        data={"csrf_token": page_csrf(alice), "status": "forgotten"},
    )
    assert r.status_code == 400 and "status: must be one of" in r.text


def test_contact_and_reminder_rules_forms(world: World) -> None:
    alice = world.browser("alice")
    cid = world.clients["alice"]
    r = alice.post(
        f"/clients/{cid}/contact",
        data={"csrf_token": page_csrf(alice), "email": "c@example.org", "consent": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = alice.get(f"/clients/{cid}").text
    assert 'value="c@example.org"' in page
    assert "client_contact.read" in _actions(world, "alice")  # reading an address is audited
    with world.store.tx() as db:
        raw = db.scalar(sa.select(ClientContact.email_enc).where(ClientContact.client_id == cid))
        assert raw is not None and b"example.org" not in raw
    r = alice.post(
        f"/clients/{cid}/contact",
        data={"csrf_token": page_csrf(alice), "email": "c@example.org\r\nBcc: x@evil.org"},
    )
    assert r.status_code == 400 and "email: expected an e-mail address" in r.text
    assert "evil" not in r.text.split("<h2", 1)[0]
    form = {
        "csrf_token": page_csrf(alice),
        "appointment_on": "true",
        "hours_before": "48",
        "weekly_on": "true",
        "weekly_instrument": "phq9",
        "weekday": "2",
        "hour": "25",
        "after_on": "true",
        "after_instrument": "alliance_check",
    }
    r = alice.post(f"/clients/{cid}/reminders", data=form)
    assert r.status_code == 400 and "hour: must be between 0 and 23" in r.text
    with world.store.tx() as db:  # a refused form keeps none of its rules
        assert db.scalars(sa.select(ReminderRule).where(ReminderRule.client_id == cid)).all() == []
    form["hour"] = "9"
    assert (
        alice.post(f"/clients/{cid}/reminders", data=form, follow_redirects=False).status_code
        == 303
    )
    with world.store.tx() as db:
        rules = {r.kind: r for r in schedule.rules_of(db, [cid])}
    assert rules["appointment"].hours_before == 48 and rules["check_weekly"].weekday == 2
    assert all(r.active for r in rules.values())
    del form["weekly_on"]  # turned off; the others stay on
    assert (
        alice.post(f"/clients/{cid}/reminders", data=form, follow_redirects=False).status_code
        == 303
    )
    with world.store.tx() as db:
        rules = {r.kind: r for r in schedule.rules_of(db, [cid])}
    assert not rules["check_weekly"].active and rules["appointment"].active


def test_schedule_page_per_role(world: World) -> None:
    soon = _now() + dt.timedelta(days=2)
    with world.store.tx() as db:
        for owner in ("alice", "bob", "tess"):
            schedule.create_appointment(
                db,
                world.store.keys,
                client_id=world.clients[owner],
                starts_at=soon,
                minutes=50,
                now=_now(),
            )
    alice = world.browser("alice").get("/schedule")
    assert alice.status_code == 200
    assert "Client of alice" in alice.text and "Client of bob" not in alice.text
    assert "Create a calendar link" in alice.text or "Replace the calendar link" in alice.text
    sam = world.browser("sam").get("/schedule").text
    assert "Client of tess" in sam and "Client of alice" not in sam and "read-only" in sam
    assert 'action="/schedule/calendar"' not in sam and "/status" not in sam
    sue = world.browser("sue").get("/schedule").text
    assert "Client of" not in sue and "No appointments" in sue
    assert world.browser("admin").get("/schedule").status_code == 403
    assert "schedule.read" in _actions(world, "sam")


def test_calendar_link_shown_once_public_audited_revocable(world: World) -> None:
    alice = world.browser("alice")
    r = alice.post("/schedule/calendar", data={"csrf_token": page_csrf(alice)})
    assert r.status_code == 200
    found = re.search(r'id="new-feed">(http://testserver/calendar/([^<]+)\.ics)<', r.text)
    assert found, "the link is shown"
    path = found.group(1).removeprefix("http://testserver")
    assert found.group(2) not in alice.get("/schedule").text  # shown once only
    anonymous = TestClient(world.app)
    ics = anonymous.get(path)
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    text = ics.text
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "BEGIN:VEVENT" in text
    assert f"SUMMARY:Session (Attunement #{world.clients['alice']})" in text
    assert "Client of alice" not in text and "Client of bob" not in text
    assert f"#{world.clients['bob']})" not in text  # only her own appointments
    assert "calendar.read" in _actions(world, "calendar-feed")
    assert anonymous.get("/calendar/not-a-token.ics").status_code == 404
    r = alice.post(
        "/schedule/calendar/revoke", data={"csrf_token": page_csrf(alice)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert anonymous.get(path).status_code == 404
    assert {"calendar_feed.create", "calendar_feed.revoke"} <= set(_actions(world, "alice"))


def test_appointments_api(world: World) -> None:
    alice = world.browser("alice")
    cid = world.clients["alice"]
    start = (_now() + dt.timedelta(days=10)).replace(second=0)
    r = alice.post(
        f"/api/clients/{cid}/appointments",
        json={"starts_at": start.isoformat(), "minutes": 60, "note": "via the API"},
        headers={"X-CSRF-Token": page_csrf(alice)},
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["client_id"] == cid and made["minutes"] == 60 and made["status"] == "scheduled"
    assert dt.datetime.fromisoformat(made["starts_at"]) == start
    listed = alice.get(f"/api/clients/{cid}/appointments").json()
    assert made["id"] in [a["id"] for a in listed]
    naive = alice.post(
        f"/api/clients/{cid}/appointments",
        json={"starts_at": "2027-01-04T09:00:00", "minutes": 50},
        headers={"X-CSRF-Token": page_csrf(alice)},
    )
    assert naive.status_code == 400 and naive.json()["detail"] == "starts_at: needs a time zone"
    bad = alice.post(
        f"/api/clients/{cid}/appointments",
        json={"starts_at": start.isoformat(), "minutes": 2},
        headers={"X-CSRF-Token": page_csrf(alice)},
    )
    assert bad.status_code == 422
    [problem] = bad.json()["detail"]
    assert problem["loc"][-1] == "minutes" and "input" not in problem  # no echo
    spec = alice.get("/api/openapi.json").json()["paths"]
    assert "/api/clients/{client_id}/appointments" in spec and "/schedule" not in spec
