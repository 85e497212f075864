"""Extra sections on the client and session pages, contributed by feature modules.

A feature (scheduling, cases, supervision, exports …) registers a function that returns
the template values its section needs; the page calls every registered function and
includes the feature's partial template (``_client_<name>.html``/``_session_<name>.html``).
The functions run inside the request's transaction with the already-authorized object, so
they must not widen access: they receive what the page's dependency allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from attunement.store import repo
    from attunement.web.deps import Ctx

ClientPanel = Callable[["Ctx", "repo.ClientView"], dict[str, Any]]
SessionPanel = Callable[["Ctx", "repo.SessionView"], dict[str, Any]]

#: name → function; the name picks the partial template ``_client_<name>.html``
CLIENT_PANELS: dict[str, ClientPanel] = {}
SESSION_PANELS: dict[str, SessionPanel] = {}


def client_panel(name: str) -> Callable[[ClientPanel], ClientPanel]:
    def register(fn: ClientPanel) -> ClientPanel:
        CLIENT_PANELS[name] = fn
        return fn

    return register


def session_panel(name: str) -> Callable[[SessionPanel], SessionPanel]:
    def register(fn: SessionPanel) -> SessionPanel:
        SESSION_PANELS[name] = fn
        return fn

    return register


def client_values(ctx: Ctx, client: repo.ClientView) -> dict[str, dict[str, Any]]:
    return {name: fn(ctx, client) for name, fn in CLIENT_PANELS.items()}


def session_values(ctx: Ctx, session: repo.SessionView) -> dict[str, dict[str, Any]]:
    return {name: fn(ctx, session) for name, fn in SESSION_PANELS.items()}
