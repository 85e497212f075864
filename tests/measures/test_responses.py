"""Reading responses: long, wide and JSON; bad records name file and row."""

import json
from pathlib import Path

import pytest

from attunement.errors import MeasureError
from attunement.measures.instruments import bundled_instruments
from attunement.measures.responses import read_responses, write_responses_csv

INST = bundled_instruments()
HEADER = "session,date,instrument,item,value\n"


def write(tmp_path: Path, text: str, name: str = "responses.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_long_format(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        HEADER + "1,2026-01-05,gad7,gad7_1,2\n1,2026-01-05,gad7,gad7_2,\n"
        '1,2026-01-05,rupture_check,tension,1\n1,2026-01-05,rupture_check,note,"ok, thanks"\n',
    )
    admins = read_responses(p, INST)
    assert [(a.session, a.instrument) for a in admins] == [(1, "gad7"), (1, "rupture_check")]
    assert admins[0].answers == {"gad7_1": 2.0}  # blank answers are absent
    assert admins[1].texts == {"note": "ok, thanks"}


def test_wide_format(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "session,date,instrument,heard,goals,approach,fit\n"
        "1,2026-01-05,alliance_check,8,7,9,8\n2,2026-01-12,alliance_check,6,,7,7\n",
    )
    admins = read_responses(p, INST)
    assert admins[1].answers == {"heard": 6.0, "approach": 7.0, "fit": 7.0}


def test_json_records(tmp_path: Path) -> None:
    recs = [
        {"session": 3, "date": "2026-02-01", "instrument": "phq9", "item": "phq9_1", "value": 1},
    ]
    p = write(tmp_path, json.dumps({"responses": recs}), "responses.json")
    (a,) = read_responses(p, INST)
    assert a.session == 3 and a.answers == {"phq9_1": 1.0}


def test_csv_round_trip(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "1,2026-01-05,gad7,gad7_1,2\n2,2026-01-12,gad7,gad7_1,1\n")
    admins = read_responses(p, INST)
    again = read_responses(write(tmp_path, write_responses_csv(admins), "again.csv"), INST)
    assert again == admins


@pytest.mark.parametrize(
    ("rows", "row", "message"),
    [
        ("1,2026-01-05,oq45,oq45_1,2\n", 2, "unknown instrument"),
        ("1,2026-01-05,phq9,phq9_1,1\n1,2026-01-05,phq9,phq9_12,1\n", 3, "unknown item"),
        ("1,2026-01-05,phq9,phq9_1,7\n", 2, "not a response option"),
        ("1,2026-01-05,phq9,phq9_1,lots\n", 2, "not a number"),
        ("1,05/01/2026,phq9,phq9_1,1\n", 2, "YYYY-MM-DD"),
        ("1.5,2026-01-05,phq9,phq9_1,1\n", 2, "whole number"),
        ("1,2026-01-05,phq9,phq9_1,1\n1,2026-01-05,phq9,phq9_1,2\n", 3, "duplicate answer"),
        ("1,2026-01-05,phq9,phq9_1,1\n1,2026-01-06,gad7,gad7_1,1\n", 3, "two dates"),
        ("1,2026-02-05,phq9,phq9_1,1\n2,2026-01-05,phq9,phq9_1,1\n", 3, "out of order"),
    ],
)
def test_bad_records_name_file_and_row(tmp_path: Path, rows: str, row: int, message: str) -> None:
    p = write(tmp_path, HEADER + rows)
    with pytest.raises(MeasureError) as err:
        read_responses(p, INST)
    text = str(err.value)
    assert f"responses.csv, row {row}" in text and message in text


def test_error_never_quotes_free_text(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "1,2026-01-05,phq9,phq9_1,my secret words\n")
    with pytest.raises(MeasureError) as err:
        read_responses(p, INST)
    assert "secret" not in str(err.value)


def test_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(MeasureError, match="columns"):
        read_responses(write(tmp_path, "when,what\n1,2\n"), INST)
