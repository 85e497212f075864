"""Jinja2 rendering for the pages (autoescaped; templates and static files ship in the
package). Every page gets the signed-in user, the CSRF token, the clinic's name and the
number of open safety alerts among the clients the user may see (shown on every page)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

if TYPE_CHECKING:
    import jinja2

    from attunement.web.deps import Ctx


@cache
def environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("attunement.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def page(
    request: Request,
    name: str,
    ctx: Ctx | None = None,
    *,
    status: int = 200,
    csrf: str = "",
    clinic_name: str | None = None,
    **values: Any,
) -> HTMLResponse:
    from attunement.store import repo

    clinic = clinic_name or "Attunement"
    safety = 0
    if ctx is not None:
        from attunement.store import checks
        from attunement.web import permissions

        clinic = repo.clinic_settings(ctx.db).name
        visible = permissions.visible_therapists(ctx.db, ctx.user)
        safety = checks.open_alert_count(ctx.db, visible)
    html = (
        environment()
        .get_template(name)
        .render(
            user=ctx.user if ctx else None,
            csrf=ctx.csrf if ctx else csrf,
            clinic=clinic,
            safety_open=safety,
            path=request.url.path,
            **values,
        )
    )
    return HTMLResponse(html, status_code=status)
