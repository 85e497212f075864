"""Client check links: a clinician creates one, the client answers it without an account,
a flagged risk item raises a safety alert the clinician acknowledges.

``/check/{token}`` is the only clinical page open without a sign-in. It shows the
instrument's items and nothing about the client; an unknown, used or expired token gets
the same "no longer open" page (404). Nothing is stored until the form is submitted; the
answers are stored encrypted and the link is used up in the same transaction. Before
sign-in the form is protected like the sign-in form (double-submit cookie).

A new link is shown once with its QR code. In a case with members the link is for one
person ("for whom"). ``/checks`` lists the links nobody has answered yet (open and
expired), with filters and sort order in the query string.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from attunement.errors import AttunementError
from attunement.store import audit, checks, pending, repo
from attunement.web import permissions, security
from attunement.web.deps import (
    DB,
    PRE_COOKIE,
    ActionableAlert,
    BadCsrf,
    Clinician,
    Ctx,
    FormCtx,
    WritableClient,
    Writer,
)
from attunement.web.render import page

router = APIRouter(include_in_schema=False)

DEFAULT_CRISIS = (
    "If you are thinking about harming yourself or feel unsafe, please get help now: call "
    "your local emergency number, or go to the nearest emergency department. Your "
    "therapist will see your answers and contact you."
)


def crisis_text(db: DB) -> str:
    return repo.clinic_settings(db).crisis_text or DEFAULT_CRISIS


@router.post("/clients/{client_id}/checks")
def create_link(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    instrument: Annotated[str, Form(max_length=64)] = "",
    session_number: Annotated[str, Form(max_length=6)] = "",
    hours: Annotated[str, Form(max_length=4)] = "",
    member: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    from attunement.web.qr import NewLink
    from attunement.web.routes.pages import client_page_response

    try:
        number = int(session_number) if session_number.strip() else 0
        valid_hours = int(hours) if hours.strip() else checks.DEFAULT_HOURS
        member_id = int(member) if member.strip() else None
    except ValueError:
        return client_page_response(
            request,
            ctx,
            client,
            check_error="session number, hours and for whom: whole numbers",
            status=400,
        )
    try:
        token, link = checks.create_link(
            ctx.db,
            client_id=client.id,
            created_by=ctx.user.id,
            instrument=instrument,
            session_number=number,
            hours=valid_hours,
            member_id=member_id,
        )
    except AttunementError as exc:
        return client_page_response(request, ctx, client, check_error=str(exc), status=400)
    ctx.audit("check_link.create", "check_link", link.id)
    url = str(request.base_url).rstrip("/") + f"/check/{token}"
    return client_page_response(request, ctx, client, new_link=NewLink(url))


def _form(
    request: Request, db: DB, link_instrument: str, status: int = 200, **values: Any
) -> Response:
    pre = request.cookies.get(PRE_COOKIE) or security.new_token()
    from attunement.web.routes.auth import set_cookie

    response = page(
        request,
        "check_form.html",
        csrf=pre,
        status=status,
        clinic_name=repo.clinic_settings(db).name,
        instrument=checks.instruments()[link_instrument],
        **values,
    )
    set_cookie(request, response, PRE_COOKIE, pre)
    return response


def _closed(request: Request) -> Response:
    return page(request, "check_closed.html", status=404)


@router.get("/check/{token}")
def check_form(request: Request, db: DB, token: str) -> Response:
    link = checks.open_link(db, token)
    if link is None:
        return _closed(request)
    return _form(request, db, link.instrument, token=token, error=None, field=None, values={})


@router.post("/check/{token}")
async def check_submit(request: Request, db: DB, token: str) -> Response:
    form = await request.form()
    raw = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= 2000}
    if not security.same(raw.get("csrf_token", ""), request.cookies.get(PRE_COOKIE, "")):
        raise BadCsrf
    link = checks.open_link(db, token)
    if link is None:
        return _closed(request)
    store = request.app.state.store
    try:
        response_id, alerts = checks.submit(db, store.keys, link, raw)
    except AttunementError as exc:
        where = getattr(exc, "where", None)
        return _form(
            request,
            db,
            link.instrument,
            token=token,
            error=_plain(link.instrument, where),
            field=where,
            values={k: v for k, v in raw.items() if k != "csrf_token"},
            status=400,
        )
    audit.append(
        db,
        actor_id=None,
        actor="client-link",
        action="check.submit",
        object_type="check_response",
        object_id=response_id,
    )
    for alert in alerts:
        audit.append(
            db,
            actor_id=None,
            actor="client-link",
            action="safety_alert.raise",
            object_type="safety_alert",
            object_id=alert.id,
        )
    return page(
        request,
        "check_done.html",
        clinic_name=repo.clinic_settings(db).name,
        crisis=crisis_text(db) if alerts else None,
    )


def _plain(instrument_id: str, item_id: str | None) -> str:
    """The problem in plain words, naming the question by its number (never its answer)."""
    instrument = checks.instruments()[instrument_id]
    for n, item in enumerate(instrument.items, start=1):
        if item.id == item_id:
            if item.type == "scale" and instrument.scale is not None:
                lo, hi = instrument.scale.min, instrument.scale.max
                return f"Please enter a number from {lo:g} to {hi:g} for scale {n}."
            if item.type == "text":
                limit = checks.MAX_TEXT
                return f"Your answer to question {n} is too long ({limit} characters at most)."
            return f"Please choose an answer to question {n}."
    return "Please answer every question marked as required."


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(ctx: Writer, _csrf: FormCtx, alert_id: ActionableAlert) -> Response:
    if checks.acknowledge(ctx.db, alert_id, ctx.user.id):
        ctx.audit("safety_alert.acknowledge", "safety_alert", alert_id)
    client_id = checks.alert_client(ctx.db, alert_id)
    return RedirectResponse(f"/clients/{client_id}", status_code=303)


def read_pending(
    ctx: Ctx, state: pending.State, instrument: str, sort: pending.Sort
) -> list[pending.PendingLink]:
    """Unanswered links among the clients ``ctx.user`` may see (an audited read)."""
    rows = pending.pending_links(
        ctx.db,
        ctx.store.keys,
        permissions.visible_therapists(ctx.db, ctx.user),
        state=state,
        instrument=instrument or None,
        sort=sort,
    )
    ctx.audit("checks.pending.read", "user", ctx.user.id)
    return rows


@router.get("/checks")
def pending_checks(
    request: Request,
    ctx: Clinician,
    state: pending.State = "open",
    instrument: Annotated[str, Query(max_length=64)] = "",
    sort: pending.Sort = "oldest",
) -> Response:
    """Who has not completed their check: unanswered links of the clients one may see."""
    rows = read_pending(ctx, state, instrument, sort)
    return page(
        request,
        "check_pending.html",
        ctx,
        rows=rows,
        state=state,
        sort=sort,
        instrument=instrument,
        instruments=checks.instruments(),
        states=pending.STATES,
        sorts=pending.SORTS,
    )
