"""``create_app(settings)``: the clinic app (FastAPI), its security headers and errors.

Nothing is created at import time. ``create_app`` opens the store (migrating it to the
newest schema unless told not to); the analysis worker thread starts with the app's
lifespan and stops with it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from attunement.errors import AttunementError
from attunement.store.db import Store
from attunement.web.deps import BadCsrf, Forbidden, NotFound, NotSignedIn
from attunement.web.security import Throttle
from attunement.web.settings import Settings

if TYPE_CHECKING:
    from attunement.analysis.base import Analyzer

STATIC = Path(__file__).with_name("static")

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def create_app(
    settings: Settings,
    store: Store | None = None,
    pipeline: Callable[[], Sequence[Analyzer]] | None = None,
) -> FastAPI:
    """``store``: an open store (default: opened and migrated from ``settings``);
    ``pipeline``: builds the analyzers (default: the library's, for ``settings.model``)."""
    from attunement.store.worker import Worker, default_pipeline
    from attunement.web.routes import (
        admin,
        api,
        auth,
        cases,
        checks,
        lifecycle,
        pages,
        schedule,
        supervision,
    )

    store = store or Store.open(settings.database_url, settings.key_file)
    worker = Worker(store, pipeline or (lambda: default_pipeline(settings.model)))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from attunement.store.reminders import start_reminders

        # the e-mail reminder loop: only with the worker, and only when SMTP is configured
        reminders = start_reminders(store) if settings.start_worker else None
        if settings.start_worker:
            worker.start()
        try:
            yield
        finally:
            worker.stop()
            if reminders is not None:
                reminders.stop()

    app = FastAPI(
        title="Attunement clinic API",
        version=_version(),
        openapi_url="/api/openapi.json",
        docs_url=None,  # the Swagger/ReDoc pages load scripts from a CDN: not offered
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.worker = worker
    app.state.throttle = Throttle(settings.ip_failures)
    app.state.wake_worker = worker.wake
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, pages, checks, cases, schedule, supervision, lifecycle, admin, api):
        app.include_router(module.router)
    _middleware(app, settings)
    _errors(app)
    return app


def _version() -> str:
    from attunement import __version__

    return __version__


def _middleware(app: FastAPI, settings: Settings) -> None:
    import asyncio

    from starlette.formparsers import MultiPartParser

    limit = int(settings.max_upload_mb * 1024 * 1024) + 64 * 1024
    # an uploaded transcript stays in memory while the form is parsed (Starlette spools
    # parts over 1 MB to an unencrypted temporary file by default): PHI never on disk
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, limit)
    # Each request holds a database connection across several thread-pool hops; with
    # more requests in flight than connections or threads they wait on each other until
    # a timeout. So at most this many run at once; the rest queue here, cheaply.
    gate = asyncio.Semaphore(settings.max_active_requests)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            response: Response = _error(request, 413, "The upload is too large.")
        elif request.url.path.startswith("/static/"):
            response = await call_next(request)
        else:
            async with gate:
                response = await call_next(request)
        response.headers.update(HEADERS)
        if request.url.scheme == "https" or settings.force_secure_cookies:
            response.headers["Strict-Transport-Security"] = "max-age=63072000"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    from attunement.web.render import environment

    html = (
        environment()
        .get_template("error.html")
        .render(
            user=None,
            csrf="",
            clinic="Attunement",
            safety_open=0,
            path=request.url.path,
            status=status,
            message=message,
        )
    )
    from fastapi.responses import HTMLResponse

    return HTMLResponse(html, status_code=status)


def _errors(app: FastAPI) -> None:
    async def not_signed_in(request: Request, _exc: Any) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        return RedirectResponse("/login", status_code=303)

    async def forbidden(request: Request, _exc: Any) -> Response:
        return _error(request, 403, "Your role does not give access to this page.")

    async def not_found(request: Request, _exc: Any) -> Response:
        return _error(request, 404, "Not found.")

    async def bad_csrf(request: Request, _exc: Any) -> Response:
        return _error(request, 403, "The form expired or did not come from this site; reload it.")

    async def user_error(request: Request, exc: Any) -> Response:
        return _error(request, 400, str(exc))  # messages name fields, never quote input

    async def invalid(request: Request, exc: Any) -> Response:
        # FastAPI's default echoes the submitted input; show only where and what kind
        problems = [
            {"loc": list(e.get("loc", ())), "type": e.get("type", ""), "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        if _is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        where = ", ".join(str(p["loc"][-1]) for p in problems if p["loc"])
        return _error(request, 422, f"Some fields are not valid: {where}.")

    async def http_error(request: Request, exc: Any) -> Response:
        status = int(getattr(exc, "status_code", 500))
        return _error(request, status, "Not found." if status == 404 else "Request refused.")

    app.add_exception_handler(NotSignedIn, not_signed_in)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(BadCsrf, bad_csrf)
    app.add_exception_handler(AttunementError, user_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
