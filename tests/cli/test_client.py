"""`attune client`: outputs, and user errors as one line with exit code 2."""

import json
from pathlib import Path

import pytest

from attunement.cli.main import main

EXAMPLES = Path(__file__).parents[2] / "src/attunement/examples/clients"


def test_client_writes_json_html_fhir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    j, h, f = tmp_path / "c.json", tmp_path / "c.html", tmp_path / "c.fhir.json"
    code = main(
        [
            "client", str(EXAMPLES / "forgotten-appointment"), "--no-transcripts",
            "--json", str(j), "--html", str(h), "--fhir", str(f),
        ]
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "enhanced" in out and "Alliance check fell from 8.5 to 4.0" in out
    assert json.loads(j.read_text())["schema_version"] == "attunement.client/1"
    assert "<svg" in h.read_text()
    assert json.loads(f.read_text())["resourceType"] == "Bundle"


def test_client_error_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "responses.csv").write_text(
        "session,date,instrument,item,value\n1,2026-01-05,phq9,phq9_1,5\n"
    )
    out = tmp_path / "never.json"
    code = main(["client", str(tmp_path), "--json", str(out)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("attune: error:") and "row 2" in err
    assert len(err.splitlines()) == 1
    assert not out.exists()
