"""Scheduling: appointments on the client page, the therapist's schedule, reminder rules,
the client's e-mail contact, and the calendar feed (iCal).

The client page gets a "schedule" panel (:mod:`attunement.web.panels`); an appointment
whose time passed while still *scheduled* shows at the top of the page until it is
marked with what happened: attended, the client did not come or cancelled, the therapist
cancelled or missed it (:data:`attunement.store.schedule.OUTCOME_CHOICES`; the course
reads these as events, see :mod:`attunement.web.course`). ``/schedule`` lists the coming
weeks across the caseload (a supervisor sees their trainees', read-only).
``/calendar/<token>.ics`` is a feed for a phone calendar: no account (like a check link),
the token stored hashed, revocable, every read audited as ``calendar-feed``; its events
name no client.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from attunement.errors import AttunementError
from attunement.store import audit, checks, ical, mail, repo, schedule
from attunement.store.tables import aware, utcnow
from attunement.store.tables_schedule import RULE_KINDS
from attunement.web import permissions
from attunement.web.deps import (
    DB,
    ApiWriteCtx,
    ChangeableAppointment,
    Clinician,
    Ctx,
    FormCtx,
    ReadableClient,
    WritableClient,
    Writer,
)
from attunement.web.panels import client_panel
from attunement.web.render import page

router = APIRouter()

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: what a cancelled appointment still ahead can be changed to
FUTURE_CHOICES = (
    ("scheduled", "Still on (not cancelled)"),
    ("client_cancelled", "Client cancelled"),
    ("therapist_cancelled", "Therapist cancelled"),
)
DEFAULT_INSTRUMENT = {"check_weekly": "phq9", "check_after_session": "alliance_check"}
#: a refused schedule form on the client page: (problem, values to show again)
_refused: contextvars.ContextVar[tuple[str, dict[str, str]] | None] = contextvars.ContextVar(
    "schedule_refused", default=None
)


def _settings() -> mail.MailSettings:
    return mail.MailSettings.from_env()


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _formatter(tz: Any) -> Any:
    def when(t: dt.datetime) -> str:
        local = t.astimezone(tz)
        return f"{DAYS[local.weekday()][:3]} {local:%Y-%m-%d %H:%M}"

    return when


# --- the client page's panel --------------------------------------------------------


@client_panel("schedule")
def schedule_panel(ctx: Ctx, client: repo.ClientView) -> dict[str, Any]:
    settings = _settings()
    now = utcnow()
    appts = schedule.appointments_of(ctx.db, ctx.store.keys, client.id)
    contact = schedule.get_contact(ctx.db, ctx.store.keys, client.id)
    if contact is not None and contact.email:
        ctx.audit("client_contact.read", "client", client.id)
    rules: dict[str, Any] = dict.fromkeys(RULE_KINDS)
    rules |= {r.kind: r for r in schedule.rules_of(ctx.db, [client.id])}
    refused = _refused.get()
    return {
        "attention": [a for a in appts if a.needs_attention(now)],
        "upcoming": [a for a in appts if a.status == "scheduled" and a.ends_at > now],
        "past": [a for a in reversed(appts) if a.ends_at <= now or a.status != "scheduled"][:12],
        "outcomes": schedule.OUTCOME_CHOICES,
        "ahead": FUTURE_CHOICES,
        "now": now,
        "contact": contact,
        "rules": rules,
        "defaults": DEFAULT_INSTRUMENT,
        "outbox": mail.outbox_of(ctx.db, client.id),
        "instruments": checks.instruments(),
        "days": DAYS,
        "when": _formatter(settings.zone()),
        "tz": settings.timezone,
        "mail_on": settings.configured,
        "links_on": bool(settings.base_url),
        "error": refused[0] if refused else None,
        "form": refused[1] if refused else {},
        "today": now.astimezone(settings.zone()).date().isoformat(),
    }


def _refuse(
    request: Request, ctx: Ctx, client: repo.ClientView, problem: str, form: dict[str, str]
) -> Response:
    from attunement.web.routes.pages import client_page_response

    token = _refused.set((problem, form))
    try:
        return client_page_response(request, ctx, client, status=400)
    finally:
        _refused.reset(token)


def _whole(value: str, where: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 6:
        raise repo.InputError("expected a whole number", where=where)
    return int(value)


# --- appointments -------------------------------------------------------------------


@router.post("/clients/{client_id}/appointments", include_in_schema=False)
def add_appointment(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    date: Annotated[str, Form(max_length=20)] = "",
    time: Annotated[str, Form(max_length=10)] = "",
    minutes: Annotated[str, Form(max_length=6)] = "50",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        starts = schedule.local_to_utc(date, time, _settings().zone())
        appt = schedule.create_appointment(
            ctx.db,
            ctx.store.keys,
            client_id=client.id,
            starts_at=starts,
            minutes=_whole(minutes, "minutes") or 0,
            now=utcnow(),
            note=note,
        )
    except AttunementError as exc:
        form = {"date": date, "time": time, "minutes": minutes, "note": note}
        return _refuse(request, ctx, client, str(exc), form)
    ctx.audit("appointment.create", "appointment", appt.id)
    return _redirect(f"/clients/{client.id}#schedule")


@router.post("/appointments/{appointment_id}/status", include_in_schema=False)
def appointment_status(
    ctx: Writer,
    _csrf: FormCtx,
    appointment_id: ChangeableAppointment,
    status: Annotated[str, Form(max_length=24)] = "",
    back: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    if schedule.set_status(ctx.db, appointment_id, status, utcnow()):
        ctx.audit(f"appointment.{status}", "appointment", appointment_id)
    if back == "schedule":
        return _redirect("/schedule")
    return _redirect(f"/clients/{schedule.appointment_client(ctx.db, appointment_id)}#schedule")


# --- contact and reminder rules -----------------------------------------------------


@router.post("/clients/{client_id}/contact", include_in_schema=False)
def set_contact(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    email: Annotated[str, Form(max_length=400)] = "",
    consent: Annotated[bool, Form()] = False,
) -> Response:
    try:
        schedule.set_contact(
            ctx.db, ctx.store.keys, client.id, email=email, consent=consent, now=utcnow()
        )
    except AttunementError as exc:
        return _refuse(request, ctx, client, str(exc), {"email": email})
    ctx.audit("client_contact.update", "client", client.id)
    return _redirect(f"/clients/{client.id}#schedule")


@router.post("/clients/{client_id}/reminders", include_in_schema=False)
def set_reminders(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    appointment_on: Annotated[bool, Form()] = False,
    hours_before: Annotated[str, Form(max_length=6)] = "24",
    weekly_on: Annotated[bool, Form()] = False,
    weekly_instrument: Annotated[str, Form(max_length=64)] = "",
    weekday: Annotated[str, Form(max_length=2)] = "0",
    hour: Annotated[str, Form(max_length=2)] = "9",
    after_on: Annotated[bool, Form()] = False,
    after_instrument: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    now = utcnow()
    wanted = {"appointment": appointment_on, "check_weekly": weekly_on}
    wanted["check_after_session"] = after_on
    existing = {r.kind: r for r in schedule.rules_of(ctx.db, [client.id])}
    try:
        with ctx.db.begin_nested():  # all three rules or none
            for kind in RULE_KINDS:
                if not wanted[kind] and kind not in existing:
                    continue
                if not wanted[kind]:
                    if existing[kind].active:
                        existing[kind].active = False
                        ctx.audit("reminder_rule.off", "reminder_rule", existing[kind].id)
                    continue
                rule = schedule.set_rule(
                    ctx.db,
                    client.id,
                    kind,
                    active=True,
                    now=now,
                    hours_before=_whole(hours_before, "hours before"),
                    weekday=_whole(weekday, "weekday"),
                    hour=_whole(hour, "hour"),
                    instrument=weekly_instrument if kind == "check_weekly" else after_instrument,
                )
                ctx.audit("reminder_rule.on", "reminder_rule", rule.id)
    except AttunementError as exc:
        return _refuse(request, ctx, client, str(exc), {})
    return _redirect(f"/clients/{client.id}#schedule")


# --- the therapist's schedule and calendar feed -------------------------------------


def _schedule_page(
    request: Request, ctx: Ctx, *, new_feed: str | None = None, status: int = 200
) -> Response:
    settings = _settings()
    now = utcnow()
    visible = permissions.visible_therapists(ctx.db, ctx.user)
    appts = schedule.appointments_for(
        ctx.db, visible, since=now - dt.timedelta(days=14), until=now + dt.timedelta(days=42)
    )
    names = {c.id: c.pseudonym for c in repo.clients_of(ctx.db, ctx.store.keys, visible)}
    users = {u.id: u.username for u in repo.list_users(ctx.db) if u.id in visible}
    ctx.audit("schedule.read", "user", ctx.user.id)
    writer = ctx.user.role in permissions.CLINICAL_WRITE
    feed = schedule.active_feed(ctx.db, ctx.user.id) if writer else None
    return page(
        request,
        "schedule.html",
        ctx,
        status=status,
        attention=[a for a in appts if a.needs_attention(now)],
        upcoming=[a for a in appts if a.status == "scheduled" and a.ends_at > now],
        outcomes=schedule.OUTCOME_CHOICES,
        names=names,
        users=users,
        when=_formatter(settings.zone()),
        tz=settings.timezone,
        can_write=writer,
        feed=feed,
        feed_created=aware(feed.created_at) if feed else None,
        new_feed=new_feed,
    )


@router.get("/schedule", include_in_schema=False)
def schedule_page(request: Request, ctx: Clinician) -> Response:
    return _schedule_page(request, ctx)


@router.post("/schedule/calendar", include_in_schema=False)
def create_feed(request: Request, ctx: Writer, _csrf: FormCtx) -> Response:
    token = schedule.create_feed(ctx.db, ctx.user.id, utcnow())
    ctx.audit("calendar_feed.create", "user", ctx.user.id)
    url = str(request.base_url).rstrip("/") + f"/calendar/{token}.ics"
    return _schedule_page(request, ctx, new_feed=url)


@router.post("/schedule/calendar/revoke", include_in_schema=False)
def revoke_feed(ctx: Writer, _csrf: FormCtx) -> Response:
    if schedule.revoke_feeds(ctx.db, ctx.user.id, utcnow()):
        ctx.audit("calendar_feed.revoke", "user", ctx.user.id)
    return _redirect("/schedule")


@router.get("/calendar/{token}.ics", include_in_schema=False)
def calendar_feed(db: DB, token: str) -> Response:
    owner = schedule.feed_owner(db, token)
    if owner is None:
        return Response("Not found.\n", status_code=404, media_type="text/plain")
    now = utcnow()
    appts = schedule.appointments_for(
        db, {owner}, since=now - dt.timedelta(days=90), until=now + dt.timedelta(days=400)
    )
    audit.append(
        db,
        actor_id=None,
        actor="calendar-feed",
        action="calendar.read",
        object_type="user",
        object_id=owner,
    )
    text = ical.calendar(appts, now=now, clinic=repo.clinic_settings(db).name)
    return Response(text, media_type="text/calendar; charset=utf-8")


# --- JSON API -----------------------------------------------------------------------


class AppointmentOut(BaseModel):
    id: int
    client_id: int
    therapist_id: int
    starts_at: dt.datetime
    minutes: int
    status: str = Field(
        description=(
            "scheduled, or what happened: attended, client_no_show, client_cancelled, "
            "therapist_cancelled, therapist_missed; rows recorded before these existed may "
            "say cancelled or missed (who was not recorded)."
        ),
        json_schema_extra={"enum": list(schedule.APPOINTMENT_STATES)},
    )
    note: str | None
    reminder_sent_at: dt.datetime | None


class AppointmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: dt.datetime = Field(description="With a time zone, e.g. 2026-03-09T14:30Z.")
    minutes: int = Field(50, ge=schedule.MIN_MINUTES, le=schedule.MAX_MINUTES)
    note: str | None = Field(None, max_length=schedule.MAX_NOTE)


@router.get(
    "/api/clients/{client_id}/appointments", response_model=list[AppointmentOut], tags=["api"]
)
def api_appointments(ctx: Clinician, client: ReadableClient) -> list[dict[str, Any]]:
    """The client's appointments, oldest first."""
    return [a.public() for a in schedule.appointments_of(ctx.db, ctx.store.keys, client.id)]


@router.post(
    "/api/clients/{client_id}/appointments",
    response_model=AppointmentOut,
    status_code=201,
    tags=["api"],
)
def api_add_appointment(
    ctx: Writer, _csrf: ApiWriteCtx, client: WritableClient, body: AppointmentIn
) -> dict[str, Any]:
    appt = schedule.create_appointment(
        ctx.db,
        ctx.store.keys,
        client_id=client.id,
        starts_at=body.starts_at,
        minutes=body.minutes,
        now=utcnow(),
        note=body.note,
    )
    ctx.audit("appointment.create", "appointment", appt.id)
    return appt.public()
