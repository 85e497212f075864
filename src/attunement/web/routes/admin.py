"""Clinic administration: users, supervisor assignments, the audit log (read-only)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from attunement.errors import AttunementError
from attunement.store import audit, repo
from attunement.store.tables import User
from attunement.web import security
from attunement.web.deps import Admin, FormCtx, ObjectId
from attunement.web.render import page

router = APIRouter(prefix="/admin", include_in_schema=False)


def _users_page(request: Request, ctx: Admin, **extra: object) -> Response:
    users = repo.list_users(ctx.db)
    names = {u.id: u.username for u in users}
    pairs = [(names.get(s, "?"), names.get(t, "?")) for s, t in repo.assignments(ctx.db)]
    values: dict[str, Any] = {
        "error": None,
        "created": None,
        "totp": None,
        "reset": None,
        **extra,
    }
    return page(
        request,
        "admin_users.html",
        ctx,
        users=users,
        pairs=pairs,
        status=400 if values["error"] else 200,
        **values,
    )


@router.get("/users")
def users(request: Request, ctx: Admin) -> Response:
    return _users_page(request, ctx)


@router.post("/users")
def create_user(
    request: Request,
    ctx: Admin,
    _csrf: FormCtx,
    username: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    password: Annotated[str, Form(max_length=security.MAX_PASSWORD)] = "",
) -> Response:
    problem = security.password_problem(password)
    if problem:
        return _users_page(request, ctx, error=f"password: {problem}")
    secret = security.new_totp_secret() if role == "admin" else None
    try:
        user = repo.create_user(
            ctx.db,
            username.strip().lower(),
            role,
            security.hash_password(password),
            ctx.store.keys.encrypt_text(secret, "users.totp_secret") if secret else None,
        )
    except AttunementError as exc:
        return _users_page(request, ctx, error=str(exc))
    ctx.audit("user.create", "user", user.id)
    totp = (secret, security.totp_uri(secret, user.username)) if secret else None
    return _users_page(request, ctx, created=user.username, totp=totp)


@router.post("/assignments")
def assign(
    request: Request,
    ctx: Admin,
    _csrf: FormCtx,
    supervisor: Annotated[str, Form(max_length=64)] = "",
    trainee: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    sup = repo.user_by_name(ctx.db, supervisor.strip().lower())
    tra = repo.user_by_name(ctx.db, trainee.strip().lower())
    if sup is None or tra is None:
        return _users_page(request, ctx, error="supervisor or trainee: no such user")
    try:
        repo.assign_trainee(ctx.db, sup, tra)
    except AttunementError as exc:
        return _users_page(request, ctx, error=str(exc))
    ctx.audit("assignment.create", "user", tra.id)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/deactivate")
def deactivate(request: Request, ctx: Admin, _csrf: FormCtx, user_id: ObjectId) -> Response:
    from attunement.store import logins

    user = ctx.db.get(User, user_id)
    if user is None or user.id == ctx.user.id:
        return _users_page(request, ctx, error="user: cannot deactivate this account")
    user.active = False
    logins.end_all(ctx.db, user.id)
    ctx.audit("user.deactivate", "user", user.id)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/reset-password")
def reset_password(request: Request, ctx: Admin, _csrf: FormCtx, user_id: ObjectId) -> Response:
    """A one-time temporary password, shown once on the response page; the user must
    choose their own at the next sign-in, and their current sign-ins end."""
    from attunement.store import logins
    from attunement.web.permissions import can_reset_password

    target = ctx.db.get(User, user_id)
    if target is None or not can_reset_password(ctx.user, target):
        audit.append(
            ctx.db,
            actor_id=ctx.user.id,
            actor=ctx.user.username,
            action="user.password_reset",
            object_type="user",
            object_id=user_id,
            outcome="denied",
        )
        return _users_page(request, ctx, error="user: cannot reset the password of this account")
    temporary = security.temporary_password()
    logins.set_password(ctx.db, target, security.hash_password(temporary), temporary=True)
    ctx.audit("user.password_reset", "user", target.id)
    return _users_page(request, ctx, reset=(target.username, temporary))


@router.get("/audit")
def audit_page(request: Request, ctx: Admin, before: int | None = None) -> Response:
    entries = audit.recent(ctx.db, 200, before)
    check = audit.verify(ctx.db)
    head = audit.head(ctx.db)
    ctx.audit("audit.read", "audit", "")
    return page(request, "admin_audit.html", ctx, entries=entries, check=check, head=head)


@router.get("/audit.csv")
def audit_export(ctx: Admin) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    fields = ["seq", "at", "actor_id", "actor", "action", "object_type", "object_id"]
    writer.writerow([*fields, "outcome", "prev_hash", "hash"])
    last = 0
    while True:
        batch = audit.entries_after(ctx.db, last, 5000)
        if not batch:
            break
        for e in batch:
            writer.writerow(
                [
                    *(e.seq, e.at.isoformat(), e.actor_id or "", e.actor, e.action),
                    *(e.object_type, e.object_id, e.outcome, e.prev_hash, e.hash),
                ]
            )
        last = batch[-1].seq
    ctx.audit("audit.export", "audit", "")
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
