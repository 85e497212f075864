"""The clinician's pages: caseload, add client, client, upload, session review."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from attunement.errors import AttunementError
from attunement.store import repo
from attunement.web import permissions
from attunement.web.caseload import caseload
from attunement.web.deps import (
    Clinician,
    Ctx,
    FormCtx,
    ReadableClient,
    ReadableSession,
    Signed,
    WritableClient,
    Writer,
    get_settings,
)
from attunement.web.render import page

router = APIRouter(include_in_schema=False)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def parse_date(value: str, field: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise repo.InputError("expected a date like 2026-03-09", where=field) from None


@router.get("/")
def home(request: Request, ctx: Signed) -> Response:
    if ctx.user.role == "admin":
        return _redirect("/admin/users")
    rows = caseload(ctx.db, ctx.store.keys, permissions.visible_therapists(ctx.db, ctx.user))
    ctx.audit("caseload.read", "user", ctx.user.id)
    return page(request, "caseload.html", ctx, rows=rows)


@router.get("/clients/new")
def new_client_form(request: Request, ctx: Writer) -> Response:
    return page(request, "client_new.html", ctx, error=None, form={})


@router.post("/clients")
def create_client(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    pseudonym: Annotated[str, Form(max_length=400)] = "",
    start_date: Annotated[str, Form(max_length=20)] = "",
    history_neglect_or_abuse: Annotated[bool, Form()] = False,
    fragile: Annotated[bool, Form()] = False,
    sensitivity: Annotated[str, Form(max_length=10)] = "normal",
) -> Response:
    try:
        client = repo.create_client(
            ctx.db,
            ctx.store.keys,
            therapist_id=ctx.user.id,
            pseudonym=pseudonym,
            start_date=parse_date(start_date, "start date"),
            history_neglect_or_abuse=history_neglect_or_abuse,
            fragile=fragile,
            sensitivity=sensitivity,
        )
    except AttunementError as exc:
        form = {"pseudonym": pseudonym, "start_date": start_date, "sensitivity": sensitivity}
        return page(request, "client_new.html", ctx, error=str(exc), form=form, status=400)
    ctx.audit("client.create", "client", client.id)
    return _redirect(f"/clients/{client.id}")


@router.get("/clients/{client_id}")
def client_page(request: Request, ctx: Clinician, client: ReadableClient) -> Response:
    return client_page_response(request, ctx, client, audited=True)


def client_page_response(
    request: Request,
    ctx: Ctx,
    client: repo.ClientView,
    *,
    audited: bool = False,
    status: int = 200,
    error: str | None = None,
    check_error: str | None = None,
    new_link: str | None = None,
) -> Response:
    """The client page: safety alerts first, then the course (``attunement.course``),
    sessions, check links and, for the owner, the upload and link forms."""
    from markupsafe import Markup

    from attunement.report.client.svg import trajectory_chart
    from attunement.store import checks
    from attunement.web.course import client_course
    from attunement.web.panels import client_values

    if not audited:
        ctx.audit("client.read", "client", client.id)
    sessions = repo.sessions_of(ctx.db, ctx.store.keys, client.id)
    course = client_course(ctx.db, ctx.store.keys, client)
    charts = []
    if course is not None:
        for traj in course.trajectories.values():
            svg = trajectory_chart(course, traj)  # every text escaped in report.client.svg
            if svg:
                charts.append((traj, Markup(svg)))
    return page(
        request,
        "client.html",
        ctx,
        status=status,
        client=client,
        sessions=sessions,
        can_write=permissions.can_write_client(ctx.db, ctx.user, client.id),
        error=error,
        check_error=check_error,
        new_link=new_link,
        safety=checks.alerts_of(ctx.db, [client.id]),
        instruments=checks.instruments(),
        links=[(link, checks.link_state(link)) for link in checks.links_of(ctx.db, client.id)],
        course=course,
        charts=charts,
        panels=client_values(ctx, client),
    )


@router.post("/clients/{client_id}/sessions")
def upload(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    transcript: Annotated[UploadFile, File()],
    number: Annotated[str, Form(max_length=6)] = "",
    date: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    settings = get_settings(request)
    limit = int(settings.max_upload_mb * 1024 * 1024)
    try:
        data = transcript.file.read(limit + 1)
        if len(data) > limit:
            raise repo.InputError(f"over the {settings.max_upload_mb:g} MB limit", where="file")
        if not data:
            raise repo.InputError("is empty", where="file")
        n = int(number) if number.strip() else None
        if n is not None and not 0 <= n <= 10_000:
            raise repo.InputError("must be between 0 and 10000", where="session number")
        session_id, _job = repo.add_session(
            ctx.db,
            ctx.store.keys,
            client_id=client.id,
            uploaded_by=ctx.user.id,
            filename=_safe_name(transcript.filename or "transcript.txt"),
            data=data,
            number=n,
            date=parse_date(date, "session date"),
        )
    except ValueError:
        return _client_error(request, ctx, client, "session number: expected a whole number")
    except AttunementError as exc:
        return _client_error(request, ctx, client, str(exc))
    ctx.audit("session.create", "session", session_id)
    request.app.state.wake_worker()
    return _redirect(f"/sessions/{session_id}")


def _safe_name(name: str) -> str:
    """Keep the extension (it helps the reader detect the format); drop any folder."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "transcript.txt"
    return base[-120:].encode("utf-8", "replace").decode("utf-8")  # no lone surrogates


def _client_error(request: Request, ctx: Writer, client: repo.ClientView, msg: str) -> Response:
    return client_page_response(request, ctx, client, error=msg, status=400)


@router.get("/sessions/{session_id}")
def session_page(request: Request, ctx: Clinician, session: ReadableSession) -> Response:
    from attunement.web.review import review

    client = repo.get_client(ctx.db, ctx.store.keys, session.client_id)
    if session.job_status != "done":
        return page(request, "job.html", ctx, session=session, client=client)
    result = repo.session_result(ctx.db, ctx.store.keys, session.id)
    assert result is not None
    from attunement.web.panels import session_values

    panels = session_values(ctx, session)
    return page(
        request,
        "session.html",
        ctx,
        session=session,
        client=client,
        panels=panels,
        **review(result),
    )
