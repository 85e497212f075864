"""Browser tests of the scheduling, cases, exports, supervision and password features, in
real headless Chromium on the demo clinic (fixtures and helpers: ``browser_helpers.py``).

Flows: schedule an appointment and find it on /schedule; Harbor's forgotten appointment
at the top of the client page; add a couple's members and a check link for one of them
with its QR code; filter the /checks list; download the PDF report; a supervisor
comments on a trainee's session and the trainee reads it; change a password. Every page
is watched for console errors (a CSP violation shows up there). Tests do not depend on
each other's order: each works on its own client or puts back what it changed.
``ATTUNEMENT_SCREENSHOTS=DIR`` saves the new pages as PNGs (``make screenshots``).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("browser_helpers")  # also a plugin (below): rewrite it first
from browser_helpers import DESKTOP, MARKS, Watch, password, shot, sign_in  # noqa: E402

from attunement.web.demo import DemoClinic  # noqa: E402

pytestmark = MARKS
pytest_plugins = ["browser_helpers"]  # the fixtures: live, browser

Live = tuple[str, DemoClinic]


def _signed_in(browser: Any, base: str, demo: DemoClinic, user: str) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, base, user, password(demo, user))
    page.wait_for_url(f"{base}/")
    return context, page, watch


def _client(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/")
    page.locator("ul.cases").get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(re.compile(r"/clients/\d+$"))


def test_schedule_an_appointment_and_the_forgotten_one(live: Live, browser: Any) -> None:
    base, demo = live
    context, page, watch = _signed_in(browser, base, demo, "dana")
    _client(page, base, "Harbor")
    # the forgotten appointment leads the page: the course's alert, before the sessions
    headings = page.locator("main h2").all_inner_texts()
    assert headings.index("Across sessions") < headings.index("Sessions")
    alerts = page.locator("section[aria-labelledby=course-alerts-h]").inner_text()
    assert re.search(r"therapist-missed appointment on \d{4}-\d\d-\d\d", alerts), alerts
    assert "Alliance check fell from 7.0 to 3.0" in alerts
    page.locator("#schedule details summary").click()  # the earlier appointments
    assert page.locator("#schedule details").get_by_text("missed by the therapist").count() == 1
    shot(page, "client-forgotten-appointment", height=1300)
    # book the next one: five days from now at 15:30 (the demo's zone is UTC)
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).date()
    page.locator("#appt-date").fill(day.isoformat())
    page.locator("#appt-time").fill("15:30")
    page.locator("#appt-minutes").fill("45")
    page.get_by_role("button", name="Add appointment").click()
    page.wait_for_url(re.compile(r"/clients/\d+(#schedule)?$"))
    upcoming = page.locator("#schedule table").first.inner_text()
    assert f"{day.isoformat()} 15:30" in upcoming and "45 min" in upcoming
    page.get_by_role("link", name="Schedule", exact=True).click()
    page.wait_for_url(f"{base}/schedule")
    row = page.locator("tr", has_text=f"{day.isoformat()} 15:30")
    assert row.count() == 1 and "Harbor" in row.inner_text() and "45 min" in row.inner_text()
    assert page.locator("tbody tr", has_text="Maple").count() >= 1  # the demo's own
    shot(page, "schedule")
    assert not watch.errors, watch.errors
    context.close()


def test_couple_members_and_a_check_link_with_qr(live: Live, browser: Any) -> None:
    base, demo = live
    context, page, watch = _signed_in(browser, base, demo, "lee")
    _client(page, base, "Cedar")  # the demo's couple: each partner's ORS, item tables
    members = page.locator("section.members").inner_text()
    assert "Couple case, 2 active people" in members and "Partner B" in members
    assert page.locator("figcaption", has_text="ORS — Partner A").count() == 1
    assert page.locator(".item-table caption", has_text="ORS — Partner B").count() == 1
    shot(page, "client-couple", height=1400)
    shot(page, "client-members", element=page.locator("section.members"))
    shot(page, "client-items", element=page.locator("section.items"))
    # a new couple case: two people, then a check link for one of them
    page.get_by_role("link", name="Add client").click()
    page.get_by_label(re.compile("Pseudonym", re.I)).fill("Alder")
    page.get_by_role("button", name=re.compile("Add|Create|Save", re.I)).click()
    page.wait_for_url(re.compile(r"/clients/\d+$"))
    client_url = page.url
    for label in ("Partner A", "Partner B"):
        page.locator("#member-label").fill(label)
        page.locator("#member-role").select_option("partner")
        page.get_by_role("button", name="Add person").click()
        page.wait_for_url(client_url)
    assert "Couple case, 2 active people" in page.locator("section.members").inner_text()
    page.locator("#instrument").select_option("alliance_check")
    page.locator("#check-member").select_option(label="Partner B (partner)")
    page.get_by_role("button", name="Create link").click()
    link = page.locator("#new-link").inner_text().strip()
    assert link.startswith(f"{base}/check/")
    qr = page.get_by_role("img", name=re.compile("QR code of the new check link"))
    qr.wait_for()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # it rendered
    assert (qr.get_attribute("src") or "").startswith("data:image/")  # local, CSP-allowed
    page.goto(f"{base}/checks")
    row = page.locator("tbody tr", has_text="Alder")
    assert row.count() == 1 and "Partner B" in row.inner_text()
    assert not watch.errors, watch.errors
    context.close()


def test_checks_list_filters(live: Live, browser: Any) -> None:
    base, demo = live
    context, page, watch = _signed_in(browser, base, demo, "dana")
    page.get_by_role("link", name="Checks", exact=True).click()
    page.wait_for_url(f"{base}/checks")
    rows = page.locator("table.pending tbody tr")
    assert rows.count() == 2  # open by default: Maple's rupture check, Harbor's alliance check
    assert {r.split("\t")[0] for r in rows.all_inner_texts()} == {"Maple", "Harbor"}
    page.locator("#f-instrument").select_option("rupture_check")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/checks\?.*instrument=rupture_check"))
    assert rows.count() == 1 and "Maple" in rows.first.inner_text()
    page.locator("#f-state").select_option("expired")
    page.locator("#f-instrument").select_option("")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"state=expired"))
    assert rows.count() == 1 and "PHQ-9" in rows.first.inner_text()
    assert "expired" in rows.first.locator("strong").inner_text()
    page.locator("#f-state").select_option("all")
    page.locator("#f-sort").select_option("client")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"state=all"))
    assert rows.count() == 3
    assert [r.split("\t")[0] for r in rows.all_inner_texts()] == ["Harbor", "Maple", "Maple"]
    shot(page, "checks")
    assert not watch.errors, watch.errors
    context.close()


def test_pdf_export_and_printable_report(live: Live, browser: Any, tmp_path: Path) -> None:
    base, demo = live
    context, page, watch = _signed_in(browser, base, demo, "dana")
    _client(page, base, "Maple")
    with page.expect_download() as info:
        page.get_by_role("link", name="Report as PDF").click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.suffix == ".pdf" and target.read_bytes().startswith(b"%PDF")
    assert "Maple" not in download.suggested_filename  # the file is named by client id
    page.get_by_role("link", name="Printable report").click()
    page.wait_for_url(re.compile(r"/clients/\d+/report$"))
    assert page.get_by_role("heading", name="Client report: Maple").count() == 1
    assert "Dropout warning signs" in page.content()
    shot(page, "report")
    assert not watch.errors, watch.errors
    context.close()


def test_supervisor_comments_and_the_trainee_reads_it(live: Live, browser: Any) -> None:
    base, demo = live
    context, page, watch = _signed_in(browser, base, demo, "morgan")
    page.get_by_role("link", name="Supervision", exact=True).click()
    page.wait_for_url(f"{base}/supervision")
    card = page.locator("section.card", has_text="robin")
    assert "3 sessions reviewed by you" in card.inner_text()
    table = card.locator("table.agreement")
    assert table.locator("tbody tr").count() >= 5  # morgan's codes beside the model's
    assert "Complaint about the therapist" in table.inner_text()
    shot(page, "supervision")
    card.get_by_role("link", name="Latest review").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_url = page.url
    assert "A good repair" in page.locator("ol.comments").inner_text()  # the demo's comment
    note = "Notice how turn 5 changed the task the moment Juniper asked for it."
    page.locator("#comment-body").fill(note)
    page.get_by_role("button", name="Add comment").click()
    page.wait_for_url(re.compile(r"/sessions/\d+(#comments)?$"))
    assert note in page.locator("ol.comments").inner_text()
    shot(page, "session-comments", element=page.locator("section.supervision").first)
    assert not watch.errors, watch.errors
    context.close()

    context, page, watch = _signed_in(browser, base, demo, "robin")  # the owner
    page.goto(session_url)
    mine = page.locator("li.comment", has_text=note)
    assert mine.count() == 1 and "morgan · supervisor" in mine.inner_text()
    assert not watch.errors, watch.errors
    context.close()


def test_change_password(live: Live, browser: Any) -> None:
    """lee changes the password, signs in with the new one only, and puts it back."""
    base, demo = live
    old, new = password(demo, "lee"), "a new and long passphrase 42"
    context, page, watch = _signed_in(browser, base, demo, "lee")
    for current, wanted in ((old, new), (new, old)):
        page.goto(f"{base}/account")
        page.get_by_role("link", name=re.compile("Change (your )?password", re.I)).click()
        page.wait_for_url(f"{base}/account/password")
        page.locator("#current_password").fill(current)
        page.locator("#new_password").fill(wanted)
        page.locator("#new_password_again").fill(wanted)
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url(re.compile(r"/account/password\?changed=1$"))
        assert "Your password was changed" in page.locator("p.ok").inner_text()
        if wanted == new:
            shot(page, "account-password")
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/login")
            assert not watch.errors, watch.errors
            sign_in(page, base, "lee", old)  # refused now: the 401 is the console's one error
            page.wait_for_url(f"{base}/login")
            assert page.get_by_role("alert").count() >= 1
            assert len(watch.errors) == 1 and "status of 401" in watch.errors[0], watch.errors
            watch.errors.clear()
            sign_in(page, base, "lee", new)
            page.wait_for_url(f"{base}/")
    assert not watch.errors, watch.errors
    context.close()
