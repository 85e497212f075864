"""Browser tests in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright through ``executable_path``; no browser download).

The real app runs under uvicorn in a thread on a free loopback port, on a demo clinic
built on a temporary SQLite database (the worker thread analyzes uploads). Flows: turn on
two-factor sign-in and sign in with it, add a client, upload a transcript, wait for the
job and see the episode; a client fills a check form on a phone-sized viewport with the
keyboard and the therapist's course chart gains a point. No page may trip the CSP.

``ATTUNEMENT_SCREENSHOTS=DIR`` (``make screenshots``) saves the main pages as PNGs there;
normal runs take none.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
playwright_sync = pytest.importorskip("playwright.sync_api")

from clinic_helpers import TRANSCRIPT  # noqa: E402

from attunement.web.app import create_app  # noqa: E402
from attunement.web.demo import DemoClinic, build_demo  # noqa: E402
from attunement.web.settings import Settings  # noqa: E402

SHOTS = os.environ.get("ATTUNEMENT_SCREENSHOTS")
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
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
    port = _free_port()
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


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _password(demo: DemoClinic, name: str) -> str:
    return next(x.password for x in demo.logins if x.username == name)


def _code(secret: str, step_offset: int = 0) -> str:
    import pyotp

    totp = pyotp.TOTP(secret)
    return str(totp.generate_otp(totp.timecode(dt.datetime.now(dt.UTC)) + step_offset))


def _sign_in(page: Any, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_two_factor_client_upload_review(live: tuple[str, DemoClinic], browser: Any) -> None:
    base, demo = live
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    _sign_in(page, base, "dana", _password(demo, "dana"))
    page.wait_for_url(f"{base}/")
    _shot(page, "caseload")
    # turn on two-factor sign-in, sign out, sign in again with password and code
    page.get_by_role("link", name="Account").click()
    secret = page.locator("code.secret").first.inner_text().strip()
    page.get_by_label("Code from the app").fill(_code(secret))
    page.get_by_role("button", name=re.compile("Turn on|Enrol|Save|Confirm", re.I)).click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")
    _shot(page, "login")
    _sign_in(page, base, "dana", _password(demo, "dana"))
    page.wait_for_url(f"{base}/login/totp")
    page.get_by_label(re.compile("code", re.I)).fill(_code(secret, 1))  # a code works once
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/")
    # add a client
    page.get_by_role("link", name="Add client").click()
    page.get_by_label(re.compile("Pseudonym", re.I)).fill("Birch")
    page.get_by_role("button", name=re.compile("Add|Create|Save", re.I)).click()
    page.wait_for_url(re.compile(r"/clients/\d+$"))
    # upload a transcript, wait for the job, see the episode
    page.set_input_files(
        "#transcript",
        files=[{"name": "birch-1.txt", "mimeType": "text/plain", "buffer": TRANSCRIPT.encode()}],
    )
    page.get_by_label("Session number (optional)").fill("1")
    page.get_by_role("button", name="Upload and analyze").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    page.locator("article.episode").first.wait_for(timeout=60_000)  # the job page refreshes
    assert "Withdrawal rupture" in page.content()
    _shot(page, "session-review")
    assert not watch.errors, watch.errors
    context.close()


def test_client_fills_check_on_a_phone(live: tuple[str, DemoClinic], browser: Any) -> None:
    base, demo = live
    therapist = browser.new_context(viewport={"width": 1280, "height": 900})
    page = therapist.new_page()
    watch = Watch(page)
    _sign_in(page, base, "lee", _password(demo, "lee"))
    page.get_by_role("link", name="Willow").click()
    page.locator(".safety").wait_for()  # the demo's item-9 alert leads the client page
    _shot(page, "client")
    caption = page.locator("figcaption", has_text="PHQ-9")
    before = int(re.search(r"\((\d+) answer", caption.inner_text()).group(1))  # type: ignore[union-attr]
    page.get_by_label("Questionnaire").select_option("phq9")
    page.get_by_role("button", name="Create link").click()
    link = page.locator("#new-link").inner_text().strip()
    assert link.startswith(f"{base}/check/")

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    form = phone.new_page()
    phone_watch = Watch(form)
    form.goto(link)
    assert form.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways
    groups = form.get_by_role("group")
    assert groups.count() == 9  # one fieldset (with its legend) per question
    # the first question by keyboard only: focus its first option, arrow to the second
    form.get_by_role("radio", name="Not at all").first.focus()
    form.keyboard.press("ArrowDown")
    assert groups.nth(0).get_by_role("radio", name="Several days").is_checked()
    for i in range(1, 9):
        groups.nth(i).get_by_role("radio", name="Not at all").check()
    _shot(form, "check-form-phone")
    form.get_by_role("button", name="Send my answers").click()
    form.get_by_role("heading", name=re.compile("answers were received")).wait_for()
    assert "Please look after your safety" not in form.content()
    _shot(form, "check-done-phone")
    assert not phone_watch.errors, phone_watch.errors
    form.goto(link)
    assert "no longer open" in form.content()  # dead afterwards (a 404 page)

    page.reload()
    after = int(re.search(r"\((\d+) answer", caption.inner_text()).group(1))  # type: ignore[union-attr]
    assert after == before + 1  # the course chart gained the new answer
    assert not watch.errors, watch.errors
    phone.close()
    therapist.close()


def test_supervisor_and_admin_pages(live: tuple[str, DemoClinic], browser: Any) -> None:
    base, demo = live
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page)
    _sign_in(page, base, "admin", _password(demo, "admin"))
    page.wait_for_url(f"{base}/login/totp")
    page.get_by_label(re.compile("code", re.I)).fill(_code(demo.admin_totp_secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/admin/users")
    page.get_by_role("link", name="Audit log").click()
    assert "user.create" in page.content()  # the demo build is in the log too
    _shot(page, "admin-audit")
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, base, "morgan", _password(demo, "morgan"))
    page.wait_for_url(f"{base}/")
    cases = page.locator("ul.cases > li")
    assert cases.count() == 1 and "Juniper" in cases.first.inner_text()  # the trainee's only
    assert page.get_by_role("link", name="Add client").count() == 0  # read-only role
    assert not watch.errors, watch.errors
    context.close()
