"""Cases with several people, score-only shells and item-level views (pages and API).

* The client page gets three panels: **members** (the people in a couple, family or group
  case; the owner adds and deactivates them), **scores** (the owner enters SRS/ORS from
  the clinic's paper form: four 0–10 scores with one decimal, for whom, session) and
  **items** (the latest administrations' item answers beside the totals).
* JSON: ``GET /api/checks`` (unanswered links, as on ``/checks``),
  ``GET``/``POST /api/clients/{id}/checks`` (the client's links; create one — the URL is
  returned once), ``GET /api/clients/{id}/members``.

Authorization comes from the dependencies (``WritableClient``, ``ChangeableMember`` …);
every read of clinical content is audited; errors name the field, never the input.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from attunement.errors import AttunementError
from attunement.store import cases, checks, pending, repo
from attunement.store.tables_cases import AGE_BANDS, MEMBER_ROLES
from attunement.web.deps import (
    MAX_ID,
    ApiWriteCtx,
    ChangeableMember,
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

# --- client page panels -------------------------------------------------------------


@client_panel("members")
def members_panel(ctx: Ctx, client: Any) -> dict[str, Any]:
    members = cases.members_of(ctx.db, ctx.store.keys, client.id)
    return {
        "members": members,
        "active": [m for m in members if m.active],
        "kind": cases.case_kind(members),
        "roles": MEMBER_ROLES,
        "age_bands": AGE_BANDS,
    }


@client_panel("scores")
def scores_panel(ctx: Ctx, client: Any) -> dict[str, Any]:
    instruments = checks.instruments()
    return {"shells": {i: instruments[i] for i in checks.SCORE_SHELLS if i in instruments}}


@client_panel("items")
def items_panel(ctx: Ctx, client: Any) -> dict[str, Any]:
    from attunement.web.items import item_tables

    return {"tables": item_tables(ctx.db, ctx.store.keys, client.id)}


def _back(client_id: int) -> RedirectResponse:
    return RedirectResponse(f"/clients/{client_id}", status_code=303)


def _form_error(request: Request, ctx: Ctx, client_id: int, what: str, exc: Exception) -> Response:
    where = getattr(exc, "where", None)
    problem = getattr(exc, "message", None) or "invalid"
    return page(
        request,
        "case_error.html",
        ctx,
        status=400,
        what=what,
        field=where,
        problem=problem,
        client_id=client_id,
    )


# --- members ------------------------------------------------------------------------


@router.post("/clients/{client_id}/members", include_in_schema=False)
def add_member(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    label: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "member",
    age_band: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        member = cases.add_member(
            ctx.db,
            ctx.store.keys,
            client_id=client.id,
            label=label,
            role=role,
            age_band=age_band or None,
        )
    except AttunementError as exc:
        return _form_error(request, ctx, client.id, "The person was not added", exc)
    ctx.audit("case_member.create", "case_member", member.id)
    return _back(client.id)


@router.post("/members/{member_id}/deactivate", include_in_schema=False)
def deactivate_member(ctx: Writer, _csrf: FormCtx, member_id: ChangeableMember) -> Response:
    if cases.deactivate(ctx.db, member_id):
        ctx.audit("case_member.deactivate", "case_member", member_id)
    client_id = cases.member_client(ctx.db, member_id)
    assert client_id is not None  # the dependency found it
    return _back(client_id)


# --- score-only shells entered by the clinician ----------------------------------------


@router.post("/clients/{client_id}/scores", include_in_schema=False)
async def enter_scores(
    request: Request, ctx: Writer, _csrf: FormCtx, client: WritableClient
) -> Response:
    from attunement.web.routes.pages import parse_date

    form = await request.form()  # the item fields depend on the instrument
    raw = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= 100}
    try:
        instrument = _shell(raw.get("instrument", ""))
        number = _whole(raw.get("session_number", ""), "session number", 0, 10_000)
        member = raw.get("member", "").strip()
        member_id = _whole(member, "for whom", 1, 2**31) if member else None
        date = parse_date(raw.get("date", ""), "date") or dt.datetime.now(dt.UTC).date()
        answers, _texts = checks.validate_answers(instrument, raw)
        response_id, _alerts = checks.add_response(
            ctx.db,
            ctx.store.keys,
            client_id=client.id,
            instrument=instrument,
            session_number=number,
            date=date,
            answers=answers,
            member_id=member_id,
        )
    except AttunementError as exc:
        return _form_error(request, ctx, client.id, "The scores were not saved", exc)
    ctx.audit("check_response.create", "check_response", response_id)
    return _back(client.id)


def _shell(value: str) -> Any:
    shells = {i: checks.instruments()[i] for i in checks.SCORE_SHELLS}
    if value not in shells:
        raise repo.InputError(f"must be one of {', '.join(shells)}", where="instrument")
    return shells[value]


def _whole(value: str, field: str, lo: int, hi: int) -> int:
    try:
        n = int(value.strip())
    except ValueError:
        raise repo.InputError("expected a whole number", where=field) from None
    if not lo <= n <= hi:
        raise repo.InputError(f"must be between {lo} and {hi}", where=field)
    return n


# --- JSON API -----------------------------------------------------------------------


class CheckLinkOut(BaseModel):
    id: int
    instrument: str
    session_number: int
    member_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    state: Literal["open", "expired", "answered"]


class CheckLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(max_length=64)
    session_number: int = Field(0, ge=0, le=10_000)
    hours: int = Field(checks.DEFAULT_HOURS, ge=1, le=checks.MAX_HOURS)
    member_id: int | None = Field(None, ge=1, le=MAX_ID)


class CheckLinkCreated(CheckLinkOut):
    url: str = Field(description="The link to send; returned this once, never stored.")


class MemberOut(BaseModel):
    id: int
    label: str
    role: str
    age_band: str | None
    active: bool


def _link_out(link: Any) -> dict[str, Any]:
    return {
        "id": link.id,
        "instrument": link.instrument,
        "session_number": link.session_number,
        "member_id": link.member_id,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "used_at": link.used_at,
        "state": checks.link_state(link),
    }


@router.get("/api/checks", response_model=list[pending.PendingLink], tags=["api"])
def api_pending_checks(
    ctx: Clinician,
    state: pending.State = "open",
    instrument: Annotated[str, Query(max_length=64)] = "",
    sort: pending.Sort = "oldest",
) -> list[pending.PendingLink]:
    """Links nobody has answered yet among the clients the user may see."""
    from attunement.web.routes.checks import read_pending

    rows = read_pending(ctx, state, instrument, sort)
    return rows


@router.get("/api/clients/{client_id}/checks", response_model=list[CheckLinkOut], tags=["api"])
def api_client_checks(ctx: Clinician, client: ReadableClient) -> list[dict[str, Any]]:
    return [_link_out(link) for link in checks.links_of(ctx.db, client.id)]


@router.post(
    "/api/clients/{client_id}/checks",
    response_model=CheckLinkCreated,
    status_code=201,
    tags=["api"],
)
def api_create_check(
    request: Request, ctx: Writer, _csrf: ApiWriteCtx, client: WritableClient, body: CheckLinkIn
) -> dict[str, Any]:
    token, link = checks.create_link(
        ctx.db,
        client_id=client.id,
        created_by=ctx.user.id,
        instrument=body.instrument,
        session_number=body.session_number,
        hours=body.hours,
        member_id=body.member_id,
    )
    ctx.audit("check_link.create", "check_link", link.id)
    url = str(request.base_url).rstrip("/") + f"/check/{token}"
    return {**_link_out(link), "url": url}


@router.get("/api/clients/{client_id}/members", response_model=list[MemberOut], tags=["api"])
def api_client_members(ctx: Clinician, client: ReadableClient) -> list[dict[str, object]]:
    return [m.public() for m in cases.members_of(ctx.db, ctx.store.keys, client.id)]
