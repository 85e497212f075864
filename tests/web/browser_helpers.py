"""Shared by the browser tests (``test_browser*.py``): the real app under uvicorn in a
thread on a free loopback port, on a demo clinic built on a temporary SQLite database,
and Debian's /usr/bin/chromium driven headless by Playwright (``executable_path``; no
browser download). A test module imports the fixtures it uses (``live``, ``browser``)
and gets its own server and browser (module scope).

``ATTUNEMENT_SCREENSHOTS=DIR`` (``make screenshots``) saves pages as PNGs there through
:func:`shot`; normal runs take none.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = os.environ.get("ATTUNEMENT_SCREENSHOTS")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
#: every browser test module's marks: skipped only when chromium is absent
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
playwright_sync = pytest.importorskip("playwright.sync_api")

from attunement.web.app import create_app  # noqa: E402
from attunement.web.demo import DemoClinic, build_demo  # noqa: E402
from attunement.web.settings import Settings  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, pipeline: Any) -> Iterator[tuple[str, Any]]:
    """(base URL, demo clinic) of the real app served by uvicorn in a thread."""
    import uvicorn

    demo: DemoClinic = build_demo(tmp_path_factory.mktemp("live"), pipeline)
    settings = Settings(
        database_url=demo.database_url, key_file=demo.key_file, model="fast", start_worker=True
    )
    app = create_app(settings, pipeline=pipeline)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", demo
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """Collects console errors (a CSP violation shows up there) of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))


def shot(page: Any, name: str, *, height: int | None = None, element: Any = None) -> None:
    """The whole page; its top ``height`` pixels (long pages); or one ``element``."""
    if not SHOTS:
        return
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    path = str(Path(SHOTS) / f"{name}.png")
    if element is not None:
        element.screenshot(path=path)
        return
    clip = None
    if height is not None:
        full = int(page.evaluate("document.documentElement.scrollHeight"))
        width = int(page.evaluate("document.documentElement.clientWidth"))
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, full)}
    page.screenshot(path=path, full_page=True, clip=clip)


def password(demo: DemoClinic, name: str) -> str:
    return next(x.password for x in demo.logins if x.username == name)


def totp_code(secret: str, step_offset: int = 0) -> str:
    import pyotp

    totp = pyotp.TOTP(secret)
    return str(totp.generate_otp(totp.timecode(dt.datetime.now(dt.UTC)) + step_offset))


def sign_in(page: Any, base: str, user: str, secret: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(secret)
    page.get_by_role("button", name="Sign in").click()
