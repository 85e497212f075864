"""Sign-in (password, then TOTP), sign-out, enrolling two-factor authentication, and
changing one's password.

A user whose password was reset by an admin (``User.must_change_password``) signs in to a
session of the ``change`` stage (:data:`attunement.web.deps.CHANGE_STAGE`): only
``/account/password`` and sign-out accept it, every other page sends them to the sign-in
page, which sends them on to the change page. Choosing a new password ends every
sign-in session of the user and starts a fresh, full one for this browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from attunement.store import audit, logins, repo
from attunement.store.tables import LoginSession, User
from attunement.web import security
from attunement.web.deps import (
    CHANGE_STAGE,
    DB,
    PRE_COOKIE,
    SESSION_COOKIE,
    BadCsrf,
    ChangingFormCtx,
    Ctx,
    FormCtx,
    Signed,
    SignedOrChanging,
    get_settings,
    get_store,
    idle_minutes,
)
from attunement.web.render import page

router = APIRouter(include_in_schema=False)

PASSWORD_PAGE = "/account/password"
FAILED = "Sign-in failed: the user name or password is wrong, or the account is locked for now."


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or get_settings(request).force_secure_cookies


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict" if name == PRE_COOKIE else "lax",
        secure=_secure(request),
        path="/",
    )


def _client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/login")
def login_form(request: Request, db: DB) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    found = logins.find(db, token, idle_minutes(request, db)) if token else None
    if found is not None and found[0].stage == CHANGE_STAGE:
        return _redirect(PASSWORD_PAGE)  # a temporary password: nothing before the change
    pre = request.cookies.get(PRE_COOKIE) or security.new_token()
    response = page(request, "login.html", csrf=pre, error=None)
    set_cookie(request, response, PRE_COOKIE, pre)
    return response


@router.post("/login")
def login(
    request: Request,
    db: DB,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=security.MAX_PASSWORD)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    pre = request.cookies.get(PRE_COOKIE, "")
    if not security.same(csrf_token, pre):
        raise BadCsrf
    settings = get_settings(request)
    throttle: security.Throttle = request.app.state.throttle
    key = _client_key(request)
    if throttle.blocked(key):
        return page(request, "login.html", csrf=pre, error=FAILED, status=429)
    user = repo.user_by_name(db, username.strip().lower())
    ok = security.verify_password(user.password_hash if user else None, password)
    if user is None or not user.active or logins.is_locked(user) or not ok:
        throttle.fail(key)
        if user is not None:
            locked = logins.failed(db, user, settings.max_failures, settings.lockout_minutes)
            _log(db, user.id, user.username, "login.locked" if locked else "login.failed")
        else:
            _log(db, None, "-", "login.failed")
        return page(request, "login.html", csrf=pre, error=FAILED, status=401)
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    if user.role == "admin" or user.totp_secret_enc is not None:
        if user.totp_secret_enc is None:  # an admin must have TOTP: refuse, don't enrol here
            _log(db, user.id, user.username, "login.no_totp")
            return page(request, "login.html", csrf=pre, error=FAILED, status=401)
        token, _ = logins.start(db, user.id, "password")
        response: Response = _redirect("/login/totp")
    else:
        logins.succeeded(user)
        token, where = _signed_in(db, user)
        response = _redirect(where)
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(PRE_COOKIE, path="/")
    return response


def _signed_in(db: DB, user: User) -> tuple[str, str]:
    """Both factors passed: a full session, or (temporary password) the change stage.
    Returns the cookie's token and where to go."""
    if user.must_change_password:
        token, _ = logins.start(db, user.id, CHANGE_STAGE)
        _log(db, user.id, user.username, "login.temporary_password")
        return token, PASSWORD_PAGE
    token, _ = logins.start(db, user.id, "full")
    _log(db, user.id, user.username, "login.ok")
    return token, "/"


def _log(db: DB, user_id: int | None, name: str, action: str) -> None:
    ok = action in ("login.ok", "login.temporary_password")
    audit.append(
        db,
        actor_id=user_id,
        actor=name,
        action=action,
        object_type="user",
        object_id=user_id or "",
        outcome="ok" if ok else "denied",
    )


def _pending(request: Request, db: DB) -> tuple[str, LoginSession, User] | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    found = logins.find(db, token, 5) if token else None
    if found is None or found[0].stage != "password":
        return None
    return token, found[0], found[1]


@router.get("/login/totp")
def totp_form(request: Request, db: DB) -> Response:
    pending = _pending(request, db)
    if pending is None:
        return _redirect("/login")
    return page(request, "totp.html", csrf=pending[1].csrf_token, error=None)


@router.post("/login/totp")
def totp(
    request: Request,
    db: DB,
    code: Annotated[str, Form(max_length=12)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    pending = _pending(request, db)
    if pending is None:
        return _redirect("/login")
    token, login_row, user = pending
    if not security.same(csrf_token, login_row.csrf_token):
        raise BadCsrf
    keys = get_store(request).keys
    assert user.totp_secret_enc is not None
    secret = keys.decrypt_text(user.totp_secret_enc, "users.totp_secret")
    settings = get_settings(request)
    step = security.totp_step(secret, code, after=user.totp_last_step or -1)
    if logins.is_locked(user) or step is None:
        locked = logins.failed(db, user, settings.max_failures, settings.lockout_minutes)
        _log(db, user.id, user.username, "login.locked" if locked else "login.totp_failed")
        if locked:
            logins.end(db, token)
            return _redirect("/login")
        return page(request, "totp.html", csrf=login_row.csrf_token, error="Code not accepted.")
    user.totp_last_step = step
    logins.end(db, token)  # a new token after the second factor: no session fixation
    logins.succeeded(user)
    new_token, where = _signed_in(db, user)
    response = _redirect(where)
    set_cookie(request, response, SESSION_COOKIE, new_token)
    return response


@router.post("/logout")
def logout(request: Request, ctx: ChangingFormCtx) -> Response:
    logins.end(ctx.db, request.cookies.get(SESSION_COOKIE, ""))
    ctx.audit("logout", "user", ctx.user.id)
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _account_page(
    request: Request, ctx: Signed, error: str | None = None, status: int = 200
) -> Response:
    """The account page with a fresh TOTP secret to enrol (a refused code gets a new one)."""
    secret = security.new_totp_secret()
    return page(
        request,
        "account.html",
        ctx,
        enrolled=ctx.user.totp_secret_enc is not None,
        secret=secret,
        uri=security.totp_uri(secret, ctx.user.username),
        error=error,
        status=status,
    )


@router.get("/account")
def account(request: Request, ctx: Signed) -> Response:
    return _account_page(request, ctx)


@router.post("/account/2fa")
def enrol_totp(
    request: Request,
    ctx: FormCtx,
    secret: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    step = security.totp_step(secret, code) if security.is_totp_secret(secret) else None
    if step is None:
        return _account_page(
            request, ctx, "Code not accepted; scan the new secret and try again.", 400
        )
    ctx.user.totp_secret_enc = ctx.store.keys.encrypt_text(secret, "users.totp_secret")
    ctx.user.totp_last_step = step  # the enrolment code cannot sign in again
    ctx.audit("user.totp_enabled", "user", ctx.user.id)
    return _redirect("/account")


PASSWORD_THROTTLED = "Too many failed attempts from this address; try again in a few minutes."


def _password_page(
    request: Request,
    ctx: Ctx,
    *,
    error: str | None = None,
    changed: bool = False,
    status: int = 200,
) -> Response:
    """The change page. With a temporary password it shows nothing of the app (no menu,
    no alert count): the user has not chosen their own password yet."""
    forced = ctx.login.stage == CHANGE_STAGE
    return page(
        request,
        "account_password.html",
        None if forced else ctx,
        csrf=ctx.csrf,
        forced=forced,
        username=ctx.user.username,
        min_length=security.MIN_PASSWORD,
        error=error,
        changed=changed,
        status=status,
    )


@router.get("/account/password")
def password_form(request: Request, ctx: SignedOrChanging, changed: int = 0) -> Response:
    return _password_page(request, ctx, changed=bool(changed) and ctx.login.stage == "full")


@router.post("/account/password")
def change_password(
    request: Request,
    ctx: ChangingFormCtx,
    current_password: Annotated[str, Form(max_length=security.MAX_PASSWORD)] = "",
    new_password: Annotated[str, Form(max_length=security.MAX_PASSWORD)] = "",
    new_password_again: Annotated[str, Form(max_length=security.MAX_PASSWORD)] = "",
) -> Response:
    """Current password, then the new one twice. A wrong current password counts like a
    failed sign-in (per address and toward the account's lock-out); the lock-out ends
    this session. Success ends every other session of the user."""
    throttle: security.Throttle = request.app.state.throttle
    key = _client_key(request)
    if throttle.blocked(key):
        return _password_page(request, ctx, error=PASSWORD_THROTTLED, status=429)
    problem = security.password_problem(new_password)
    if problem:
        return _password_page(request, ctx, error=f"New password: {problem}.", status=400)
    if new_password != new_password_again:
        error = "New password, again: does not match the new password."
        return _password_page(request, ctx, error=error, status=400)
    user, db = ctx.user, ctx.db
    ok = security.verify_password(user.password_hash, current_password)
    if logins.is_locked(user) or not ok:
        throttle.fail(key)
        settings = get_settings(request)
        locked = logins.failed(db, user, settings.max_failures, settings.lockout_minutes)
        audit.append(
            db,
            actor_id=user.id,
            actor=user.username,
            action="user.password_change",
            object_type="user",
            object_id=user.id,
            outcome="denied",
        )
        if locked:
            _log(db, user.id, user.username, "login.locked")
            logins.end(db, request.cookies.get(SESSION_COOKIE, ""))
            response = _redirect("/login")
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        error = "Current password: not accepted (wrong, or the account is locked for now)."
        return _password_page(request, ctx, error=error, status=400)
    if security.same(new_password, current_password):
        error = "New password: must differ from the current one."
        return _password_page(request, ctx, error=error, status=400)
    logins.set_password(db, user, security.hash_password(new_password), temporary=False)
    token, _ = logins.start(db, user.id, "full")  # every old session ended, this one too
    ctx.audit("user.password_change", "user", user.id)
    response = _redirect(f"{PASSWORD_PAGE}?changed=1")
    set_cookie(request, response, SESSION_COOKIE, token)
    return response
