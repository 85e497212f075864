"""A client's data as files: the FHIR R4 Bundle holds this client's answers and no other
client's, the CSV is one tidy table and safe to open in a spreadsheet, the printable
report leads with what needs attention, the PDF is a PDF whose metadata names no one;
every export is an attachment with a PHI-free name and is audited."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from clinic_helpers import World

from attunement.store import checks
from attunement.store.tables import AuditEntry
from attunement.web.exports import CSV_COLUMNS, safe_cell

FILENAME = re.compile(r'^attachment; filename="client-(\d+)-\d{4}-\d{2}-\d{2}\.[a-z.]+"$')


def _audited(world: World, action: str, client_id: int) -> int:
    with world.store.tx() as db:
        return len(
            db.scalars(
                sa.select(AuditEntry).where(
                    AuditEntry.action == action, AuditEntry.object_id == str(client_id)
                )
            ).all()
        )


@pytest.fixture(scope="module")
def noted(world: World) -> int:
    """A rupture check whose free-text note starts like a spreadsheet formula."""
    with world.store.tx() as db:
        inst = checks.instruments()["rupture_check"]
        answers = {
            i.id: checks.instruments()["rupture_check"].options_for(i)[0].value
            for i in inst.items
            if i.type == "choice"
        }
        checks.add_response(
            db,
            world.store.keys,
            client_id=world.clients["alice"],
            instrument=inst,
            session_number=1,
            date=dt.date(2026, 3, 2),
            answers=answers,
            texts={"note": '=HYPERLINK("http://evil.example","x")'},
        )
    return world.clients["alice"]


@pytest.mark.parametrize(
    "path", ["/clients/{id}/export.fhir.json", "/api/clients/{id}/export/fhir"]
)
def test_fhir_bundle_is_this_clients(world: World, path: str) -> None:
    cid, other = world.clients["alice"], world.clients["bob"]
    before = _audited(world, "client.export.fhir", cid)
    r = world.browser("alice").get(path.format(id=cid))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    m = FILENAME.match(r.headers["content-disposition"])
    assert m and int(m.group(1)) == cid
    assert r.headers["cache-control"] == "no-store"
    bundle = r.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    with world.store.tx() as db:
        answered = checks.administrations(db, world.store.keys, cid)
    assert kinds.count("QuestionnaireResponse") == len(answered) >= 1
    assert "Observation" in kinds and "Questionnaire" in kinds  # the PHQ-9 total (LOINC)
    subjects = {
        e["resource"]["subject"]["reference"] for e in bundle["entry"] if "subject" in e["resource"]
    }
    assert subjects == {f"Patient/client-{cid}"}
    assert f"client-{other}" not in r.text and "Client of" not in r.text
    assert _audited(world, "client.export.fhir", cid) == before + 1


def test_csv_is_tidy_and_injection_safe(world: World, noted: int) -> None:
    r = world.browser("alice").get(f"/clients/{noted}/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert FILENAME.match(r.headers["content-disposition"])
    import csv
    import io

    rows = list(csv.reader(io.StringIO(r.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    kinds = {row[0] for row in rows[1:]}
    assert {"score", "session", "episode", "safety_alert"} <= kinds
    totals = [row for row in rows if row[0] == "score" and row[1] == "phq9" and row[4] == "total"]
    assert [float(row[5]) for row in totals] == [9.0]  # the library's score of the answers
    notes = [row[5] for row in rows if row[4] == "client_note"]
    assert notes == ["'" + '=HYPERLINK("http://evil.example","x")']
    assert not [c for row in rows for c in row if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert _audited(world, "client.export.csv", noted) >= 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        (-1.5, -1.5),  # numbers from the library stay numbers
        (None, ""),
        (True, "yes"),
    ],
)
def test_safe_cell(value: object, expected: object) -> None:
    assert safe_cell(value) == expected


def test_printable_report_leads_with_attention(world: World) -> None:
    cid = world.clients["alice"]
    r = world.browser("alice").get(f"/clients/{cid}/report")
    assert r.status_code == 200
    html = r.text
    assert "<nav" not in html and "<script" not in html and "style=" not in html
    assert "default-src 'none'" in r.headers["content-security-policy"]
    attention = html.index("Needs attention")
    assert attention < html.index("Questionnaire scores")
    assert attention < html.index('id="charts-h"')
    assert html.index("Safety: 1 answer") > attention  # the open PHQ-9 item 9 alert
    assert "Rupture episodes still open" in html
    assert "<svg" in html and "Client of alice" in html
    assert _audited(world, "client.export.report", cid) >= 1


def test_pdf_report(world: World) -> None:
    cid = world.clients["tess"]
    r = world.browser("sam").get(f"/clients/{cid}/report.pdf")  # a supervisor reads it too
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    m = FILENAME.match(r.headers["content-disposition"])
    assert m and int(m.group(1)) == cid
    body = r.content
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    titles = re.findall(rb"/Title \(([^)]*)\)", body)
    assert titles == [f"Client report client-{cid}".encode()]
    assert b"/Author" not in body
    assert len(body) > 5000  # text, tables and the PHQ-9 chart
    assert _audited(world, "client.export.pdf", cid) == 1


def test_exports_panel_on_the_client_page(world: World) -> None:
    cid = world.clients["alice"]
    page = world.browser("alice").get(f"/clients/{cid}").text
    for suffix in ("report", "report.pdf", "export.csv", "export.fhir.json", "delete"):
        assert f'href="/clients/{cid}/{suffix}"' in page
    supervisor_view = world.browser("sam").get(f"/clients/{world.clients['tess']}").text
    assert "/report.pdf" in supervisor_view and "/delete" not in supervisor_view


def test_other_clients_exports_are_not_found(world: World) -> None:
    browser: Any = world.browser("alice")
    for path in ("export.csv", "export.fhir.json", "report", "report.pdf"):
        assert browser.get(f"/clients/{world.clients['bob']}/{path}").status_code == 404
