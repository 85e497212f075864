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

from fastapi import Depends, Form, Header, Request
from sqlalchemy.orm import Session

from attunement.store import audit, logins, repo
from attunement.web import permissions

if TYPE_CHECKING:
    from attunement.store.db import Store
    from attunement.store.tables import LoginSession, User
    from attunement.web.settings import Settings

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
    found = logins.find(db, token, get_settings(request).idle_minutes)
    if found is None or found[0].stage != "full":
        raise NotSignedIn
    login, user = found
    return Ctx(db=db, store=get_store(request), user=user, login=login)


Signed = Annotated[Ctx, Depends(current)]


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


def readable_client(client_id: int, ctx: Signed) -> repo.ClientView:
    if not permissions.can_read_client(ctx.db, ctx.user, client_id):
        _denied(ctx, "client", client_id)
        raise NotFound
    client = repo.get_client(ctx.db, ctx.store.keys, client_id)
    assert client is not None
    ctx.audit("client.read", "client", client_id)
    return client


def writable_client(client_id: int, ctx: Signed) -> repo.ClientView:
    if not permissions.can_write_client(ctx.db, ctx.user, client_id):
        _denied(ctx, "client", client_id)
        raise NotFound
    client = repo.get_client(ctx.db, ctx.store.keys, client_id)
    assert client is not None
    return client


def readable_session(session_id: int, ctx: Signed) -> repo.SessionView:
    if not permissions.can_read_session(ctx.db, ctx.user, session_id):
        _denied(ctx, "session", session_id)
        raise NotFound
    view = repo.get_session(ctx.db, ctx.store.keys, session_id)
    assert view is not None
    ctx.audit("session.read", "session", session_id)
    return view


def readable_job(job_id: int, ctx: Signed) -> int:
    if not permissions.can_read_job(ctx.db, ctx.user, job_id):
        _denied(ctx, "job", job_id)
        raise NotFound
    return job_id


def alert_to_act_on(alert_id: int, ctx: Signed) -> int:
    if not permissions.can_act_on_alert(ctx.db, ctx.user, alert_id):
        _denied(ctx, "safety_alert", alert_id)
        raise NotFound
    return alert_id


ReadableClient = Annotated[repo.ClientView, Depends(readable_client)]
WritableClient = Annotated[repo.ClientView, Depends(writable_client)]
ReadableSession = Annotated[repo.SessionView, Depends(readable_session)]
ReadableJob = Annotated[int, Depends(readable_job)]
ActionableAlert = Annotated[int, Depends(alert_to_act_on)]


def form_csrf(ctx: Signed, csrf_token: Annotated[str, Form()] = "") -> Ctx:
    """For every form POST of a signed-in user."""
    from attunement.web.security import same

    if not same(csrf_token, ctx.csrf):
        raise BadCsrf
    return ctx


def header_csrf(ctx: Signed, x_csrf_token: Annotated[str, Header()] = "") -> Ctx:
    """For JSON writes: the token from ``GET /api/me`` in the ``X-CSRF-Token`` header."""
    from attunement.web.security import same

    if not same(x_csrf_token, ctx.csrf):
        raise BadCsrf
    return ctx


FormCtx = Annotated[Ctx, Depends(form_csrf)]
ApiWriteCtx = Annotated[Ctx, Depends(header_csrf)]
