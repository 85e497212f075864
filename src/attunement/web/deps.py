"""Request dependencies: the transaction, the signed-in user, role and object checks, CSRF.

Routes never check ownership themselves: they ask for ``ReadableClient``,
``WritableClient``, ``ReadableSession`` … and receive the object only if
:mod:`attunement.web.permissions` allows it; a denied attempt is audited and answered
with 404 (the transaction is committed for these refusals, so the audit row survives
the error response). Every granted read of clinical content writes an audit row in the
request's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Form, Header, Path, Request
from sqlalchemy.orm import Session

from attunement.store import audit, logins, repo
from attunement.web import permissions

if TYPE_CHECKING:
    from attunement.store.db import Store
    from attunement.store.tables import LoginSession, User
    from attunement.web.settings import Settings

#: the largest id the database holds (PostgreSQL ``integer``); ids in addresses outside
#: 1..MAX_ID are refused by validation (422), before any query
MAX_ID = 2**31 - 1
#: an object id taken from the address
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID)]

SESSION_COOKIE = "attunement_session"
PRE_COOKIE = "attunement_pre"


class NotSignedIn(Exception):
    pass


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


class BadCsrf(Exception):
    pass


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    with get_store(request).tx(commit_on=(Forbidden, NotFound)) as db:
        yield db


DB = Annotated[Session, Depends(get_db, scope="function")]


@dataclass
class Ctx:
    """The signed-in user of this request and the open transaction."""

    db: Session
    store: Store
    user: User
    login: LoginSession

    @property
    def csrf(self) -> str:
        return self.login.csrf_token

    def audit(self, action: str, object_type: str, object_id: str | int = "") -> None:
        audit.append(
            self.db,
            actor_id=self.user.id,
            actor=self.user.username,
            action=action,
            object_type=object_type,
            object_id=object_id,
        )


def current(request: Request, db: DB) -> Ctx:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn
    found = logins.find(db, token, idle_minutes(request, db))
    if found is None or found[0].stage != "full":
        raise NotSignedIn
    login, user = found
    return Ctx(db=db, store=get_store(request), user=user, login=login)


Signed = Annotated[Ctx, Depends(current)]


def idle_minutes(request: Request, db: Session) -> int:
    """``ATTUNEMENT_IDLE_MINUTES`` (or the app's settings) when set, else the clinic's
    setting (``/admin/settings``, 30 minutes unless changed)."""
    configured = get_settings(request).idle_minutes
    if configured is not None:
        return configured
    return repo.clinic_settings(db).idle_timeout_minutes or 30


#: the stage of a sign-in with a temporary password (an admin reset): only the password
#: change page and sign-out accept it, every other page treats it as not signed in
CHANGE_STAGE = "change"


def current_or_changing(request: Request, db: DB) -> Ctx:
    """Signed in, or signed in with a temporary password that must be changed first."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn
    found = logins.find(db, token, idle_minutes(request, db))
    if found is None or found[0].stage not in ("full", CHANGE_STAGE):
        raise NotSignedIn
    login, user = found
    return Ctx(db=db, store=get_store(request), user=user, login=login)


SignedOrChanging = Annotated[Ctx, Depends(current_or_changing)]


def require(*roles: str) -> Callable[[Ctx], Ctx]:
    def check(ctx: Signed) -> Ctx:
        if ctx.user.role not in roles:
            _denied(ctx, "role", ctx.user.role)
            raise Forbidden
        return ctx

    return check


Clinician = Annotated[Ctx, Depends(require(*permissions.CLINICAL_READ))]
Writer = Annotated[Ctx, Depends(require(*permissions.CLINICAL_WRITE))]
Admin = Annotated[Ctx, Depends(require(*permissions.ADMIN))]


def _denied(ctx: Ctx, object_type: str, object_id: str | int) -> None:
    """Audit a refusal; the caller raises Forbidden/NotFound, which commits (see get_db)."""
    audit.append(
        ctx.db,
        actor_id=ctx.user.id,
        actor=ctx.user.username,
        action="access.denied",
        object_type=object_type,
        object_id=object_id,
        outcome="denied",
    )


def _allow(ctx: Ctx, allowed: bool, object_type: str, object_id: int) -> None:
    """Refuse (audited, as 404) unless ``allowed``."""
    if not allowed:
        _denied(ctx, object_type, object_id)
        raise NotFound


def _client(ctx: Ctx, allowed: bool, client_id: int, *, read: bool) -> repo.ClientView:
    """The client if ``allowed``; ``read``: audit it as a read of clinical content."""
    _allow(ctx, allowed, "client", client_id)
    client = repo.get_client(ctx.db, ctx.store.keys, client_id)
    assert client is not None
    if read:
        ctx.audit("client.read", "client", client_id)
    return client


def _session(ctx: Ctx, allowed: bool, session_id: int, *, read: bool) -> repo.SessionView:
    _allow(ctx, allowed, "session", session_id)
    view = repo.get_session(ctx.db, ctx.store.keys, session_id)
    assert view is not None
    if read:
        ctx.audit("session.read", "session", session_id)
    return view


def readable_client(client_id: ObjectId, ctx: Signed) -> repo.ClientView:
    allowed = permissions.can_read_client(ctx.db, ctx.user, client_id)
    return _client(ctx, allowed, client_id, read=True)


def writable_client(client_id: ObjectId, ctx: Signed) -> repo.ClientView:
    allowed = permissions.can_write_client(ctx.db, ctx.user, client_id)
    return _client(ctx, allowed, client_id, read=False)


def deletable_client(client_id: ObjectId, ctx: Signed) -> repo.ClientView:
    allowed = permissions.can_delete_client(ctx.db, ctx.user, client_id)
    return _client(ctx, allowed, client_id, read=False)


def readable_session(session_id: ObjectId, ctx: Signed) -> repo.SessionView:
    allowed = permissions.can_read_session(ctx.db, ctx.user, session_id)
    return _session(ctx, allowed, session_id, read=True)


def readable_job(job_id: ObjectId, ctx: Signed) -> int:
    _allow(ctx, permissions.can_read_job(ctx.db, ctx.user, job_id), "job", job_id)
    return job_id


def alert_to_act_on(alert_id: ObjectId, ctx: Signed) -> int:
    allowed = permissions.can_act_on_alert(ctx.db, ctx.user, alert_id)
    _allow(ctx, allowed, "safety_alert", alert_id)
    return alert_id


ReadableClient = Annotated[repo.ClientView, Depends(readable_client)]
DeletableClient = Annotated[repo.ClientView, Depends(deletable_client)]
WritableClient = Annotated[repo.ClientView, Depends(writable_client)]
ReadableSession = Annotated[repo.SessionView, Depends(readable_session)]
ReadableJob = Annotated[int, Depends(readable_job)]
ActionableAlert = Annotated[int, Depends(alert_to_act_on)]


# --- supervision: comments, code corrections, training-data export -------------------


def commentable_session(session_id: ObjectId, ctx: Signed) -> repo.SessionView:
    allowed = permissions.can_comment_session(ctx.db, ctx.user, session_id)
    return _session(ctx, allowed, session_id, read=False)


def correctable_session(session_id: ObjectId, ctx: Signed) -> repo.SessionView:
    allowed = permissions.can_correct_session(ctx.db, ctx.user, session_id)
    return _session(ctx, allowed, session_id, read=False)


def exportable_client(client_id: ObjectId, ctx: Signed) -> repo.ClientView:
    allowed = permissions.can_export_corrections(ctx.db, ctx.user, client_id)
    return _client(ctx, allowed, client_id, read=False)


CommentableSession = Annotated[repo.SessionView, Depends(commentable_session)]
CorrectableSession = Annotated[repo.SessionView, Depends(correctable_session)]
ExportableClient = Annotated[repo.ClientView, Depends(exportable_client)]


# --- scheduling: appointments ---------------------------------------------------------


def changeable_appointment(appointment_id: ObjectId, ctx: Signed) -> int:
    allowed = permissions.can_change_appointment(ctx.db, ctx.user, appointment_id)
    _allow(ctx, allowed, "appointment", appointment_id)
    return appointment_id


ChangeableAppointment = Annotated[int, Depends(changeable_appointment)]


# --- cases: people in a couple, family or group case ----------------------------------


def changeable_member(member_id: ObjectId, ctx: Signed) -> int:
    allowed = permissions.can_change_member(ctx.db, ctx.user, member_id)
    _allow(ctx, allowed, "case_member", member_id)
    return member_id


ChangeableMember = Annotated[int, Depends(changeable_member)]


def _same_csrf(ctx: Ctx, token: str) -> Ctx:
    from attunement.web.security import same

    if not same(token, ctx.csrf):
        raise BadCsrf
    return ctx


def form_csrf(ctx: Signed, csrf_token: Annotated[str, Form()] = "") -> Ctx:
    """For every form POST of a signed-in user."""
    return _same_csrf(ctx, csrf_token)


def header_csrf(ctx: Signed, x_csrf_token: Annotated[str, Header()] = "") -> Ctx:
    """For JSON writes: the token from ``GET /api/me`` in the ``X-CSRF-Token`` header."""
    return _same_csrf(ctx, x_csrf_token)


FormCtx = Annotated[Ctx, Depends(form_csrf)]


def changing_form_csrf(ctx: SignedOrChanging, csrf_token: Annotated[str, Form()] = "") -> Ctx:
    """Form POSTs that a temporary-password sign-in may make too (change it, sign out)."""
    return _same_csrf(ctx, csrf_token)


ChangingFormCtx = Annotated[Ctx, Depends(changing_form_csrf)]
ApiWriteCtx = Annotated[Ctx, Depends(header_csrf)]
