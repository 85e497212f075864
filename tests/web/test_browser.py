"""Browser tests in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright through ``executable_path``; no browser download).

The real app runs under uvicorn in a thread on a free loopback port, on a demo clinic
built on a temporary SQLite database (the worker thread analyzes uploads). Flows: turn on
two-factor sign-in and sign in with it, add a client, upload a transcript, wait for the
job and see the episode; a client fills a check form on a phone-sized viewport with the
keyboard and the therapist's course chart gains a point. No page may trip the CSP.

``ATTUNEMENT_SCREENSHOTS=DIR`` (``make screenshots``) saves the main pages as PNGs there;
normal runs take none. The server and browser fixtures are in ``browser_helpers.py``;
the newer features' flows are in ``test_browser_features.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.register_assert_rewrite("browser_helpers")  # also a plugin (below): rewrite it first
from browser_helpers import DESKTOP, MARKS, PHONE, Watch, password, shot, sign_in, totp_code  # noqa: E402
from clinic_helpers import TRANSCRIPT  # noqa: E402

from attunement.web.demo import DemoClinic  # noqa: E402

pytestmark = MARKS
pytest_plugins = ["browser_helpers"]  # the fixtures: live, browser


def test_two_factor_client_upload_review(live: tuple[str, DemoClinic], browser: Any) -> None:
    base, demo = live
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, base, "dana", password(demo, "dana"))
    page.wait_for_url(f"{base}/")
    shot(page, "caseload")
    # turn on two-factor sign-in, sign out, sign in again with password and code
    page.get_by_role("link", name="Account").click()
    secret = page.locator("code.secret").first.inner_text().strip()
    page.get_by_label("Code from the app").fill(totp_code(secret))
    page.get_by_role("button", name=re.compile("Turn on|Enrol|Save|Confirm", re.I)).click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")
    shot(page, "login")
    sign_in(page, base, "dana", password(demo, "dana"))
    page.wait_for_url(f"{base}/login/totp")
    page.get_by_label(re.compile("code", re.I)).fill(totp_code(secret, 1))  # a code works once
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
    shot(page, "session-review")
    assert not watch.errors, watch.errors
    context.close()


def test_client_fills_check_on_a_phone(live: tuple[str, DemoClinic], browser: Any) -> None:
    base, demo = live
    therapist = browser.new_context(viewport=DESKTOP)
    page = therapist.new_page()
    watch = Watch(page)
    sign_in(page, base, "lee", password(demo, "lee"))
    page.get_by_role("link", name="Willow").click()
    page.locator(".safety").wait_for()  # the demo's item-9 alert leads the client page
    shot(page, "client", height=1800)  # the top: alerts, sessions, the first charts
    caption = page.locator("figcaption", has_text="PHQ-9")
    before = int(re.search(r"\((\d+) answer", caption.inner_text()).group(1))  # type: ignore[union-attr]
    page.locator("#instrument").select_option("phq9")  # the check link form's
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
    shot(form, "check-form-phone")
    form.get_by_role("button", name="Send my answers").click()
    form.get_by_role("heading", name=re.compile("answers were received")).wait_for()
    assert "Please look after your safety" not in form.content()
    shot(form, "check-done-phone")
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
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, base, "admin", password(demo, "admin"))
    page.wait_for_url(f"{base}/login/totp")
    page.get_by_label(re.compile("code", re.I)).fill(totp_code(demo.admin_totp_secret))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/admin/users")
    page.get_by_role("link", name="Audit log").click()
    assert "user.create" in page.content()  # the demo build is in the log too
    shot(page, "admin-audit")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, "morgan", password(demo, "morgan"))
    page.wait_for_url(f"{base}/")
    cases = page.locator("ul.cases > li")
    assert cases.count() == 1 and "Juniper" in cases.first.inner_text()  # the trainee's only
    assert page.get_by_role("link", name="Add client").count() == 0  # read-only role
    assert not watch.errors, watch.errors
    context.close()
