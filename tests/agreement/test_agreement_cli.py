"""`attune agree`: a lab's coder table against the model's session JSON, ratings, errors."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from attunement.agreement.stats import cohen_kappa
from attunement.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "src/attunement/examples/sessions"


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analyzed")
    assert (
        main(["analyze", str(EXAMPLE / "cheerful-goodbye.txt"), "--fast", "--json", str(out)]) == 0
    )
    return out / "cheerful-goodbye.session.json"


def _lab_table(session_json: Path, path: Path, by_index: bool = False) -> dict[str, list]:
    """A second coder: the model's codes with seeded disagreements; returns both codings."""
    doc = json.loads(session_json.read_text(encoding="utf-8"))
    rng = random.Random(5)
    pairs: dict[str, list] = {"W_MINIMAL": [], "E_EXPLORATION": []}
    unit = "index" if by_index else "utterance_id"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["coder", "session", unit, "code", "value", "role", "text"])
        for u in doc["utterances"]:
            mine = {a["code"]: a for a in u["annotations"] if a["source"] != "human"}
            key = u["index"] if by_index else u["id"]
            if u["role"] == "client":
                model = int("W_MINIMAL" in mine)
                lab = 1 - model if rng.random() < 0.3 else model
                pairs["W_MINIMAL"].append((lab, model))
                w.writerow(["lab", "cheerful-goodbye", key, "W_MINIMAL", lab, "client", u["text"]])
            else:
                model_lv = mine["E_EXPLORATION"]["level"] if "E_EXPLORATION" in mine else "none"
                lab_lv = rng.choice(["none", "weak", "strong"]) if rng.random() < 0.3 else model_lv
                pairs["E_EXPLORATION"].append((lab_lv, model_lv))
                row = [
                    "lab",
                    "cheerful-goodbye",
                    key,
                    "E_EXPLORATION",
                    lab_lv,
                    "therapist",
                    u["text"],
                ]
                w.writerow(row)
    return pairs


def test_lab_against_model(
    analyzed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = tmp_path / "lab.csv"
    pairs = _lab_table(analyzed, lab)
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    code = main(
        [
            "agree",
            str(lab),
            "--coder",
            f"model={analyzed}",
            "--boot",
            "200",
            "--json",
            str(out_json),
            "--csv",
            str(out_csv),
        ]
    )
    assert code == 0
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["coders"] == ["lab", "model"]
    wm = report["codes"]["W_MINIMAL"]
    lab_v, model_v = zip(*pairs["W_MINIMAL"], strict=True)
    assert wm["n_both"] == len(lab_v)
    want = cohen_kappa(lab_v, model_v)
    assert wm["cohen_kappa"] == (None if want is None else pytest.approx(want, abs=1e-4))
    ex = report["codes"]["E_EXPLORATION"]
    assert ex["kind"] == "ordinal" and ex["labels"] == ["none", "weak", "strong"]
    levels = {"none": 0, "weak": 1, "strong": 2}
    a, b = ([levels[x] for x in col] for col in zip(*pairs["E_EXPLORATION"], strict=True))
    assert ex["cohen_kappa"] == pytest.approx(cohen_kappa(a, b), abs=1e-4)
    assert ex["cohen_kappa_quadratic"] == pytest.approx(cohen_kappa(a, b, "quadratic"), abs=1e-4)
    assert ex["alpha_ordinal"] is not None and len(ex["alpha_ordinal_ci"]) == 2
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [r["code"] for r in rows] == ["E_EXPLORATION", "W_MINIMAL"]
    assert float(rows[0]["cohen_kappa"]) == ex["cohen_kappa"]
    printed = capsys.readouterr().out
    assert "Agreement per code" in printed and "E_EXPLORATION" in printed
    assert "the units both coders coded" in printed


def test_index_tables_match_session_json_and_json_to_stdout(
    analyzed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = tmp_path / "lab.csv"
    _lab_table(analyzed, lab, by_index=True)
    assert (
        main(
            [
                "agree",
                "--coder",
                f"lab={lab}",
                "--coder",
                f"model={analyzed}",
                "--boot",
                "0",
                "--json",
                "-",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["codes"]["W_MINIMAL"]["n_both"] > 10
    assert report["codes"]["W_MINIMAL"]["cohen_kappa_ci"] is None  # --boot 0: no CIs


def test_ratings_icc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    path = tmp_path / "ratings.jsonl"
    path.write_text(
        "".join(
            json.dumps({"coder": c, "session": f"s{i}", "scale": "WAI", "value": v}) + "\n"
            for i, row in enumerate(data)
            for c, v in zip("abcd", row, strict=True)
        ),
        encoding="utf-8",
    )
    assert main(["agree", "--ratings", str(path), "--boot", "300", "--json", "-"]) == 0
    r = json.loads(capsys.readouterr().out)["scales"]["WAI"]
    assert r["n_sessions"] == 6
    assert r["icc2_1"] == pytest.approx(0.29, abs=0.006)
    assert r["icc3_1"] == pytest.approx(0.71, abs=0.006)
    assert r["icc3_1_ci"][0] <= r["icc3_1"] <= r["icc3_1_ci"][1]


def test_errors_name_the_place_not_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "coder,session,utterance_id,code,value\nA,s1,u1,E_EXPLORATION,Maria Lopez\n"
        "B,s1,u1,E_EXPLORATION,none\n",
        encoding="utf-8",
    )
    assert main(["agree", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv line 2" in err and "Maria" not in err
    one = tmp_path / "one.csv"
    one.write_text("coder,session,index,code,value\nA,s1,0,W_MINIMAL,1\n", encoding="utf-8")
    assert main(["agree", str(one)]) == 2
    assert "at least two coders" in capsys.readouterr().err
    extra = tmp_path / "extra.csv"
    extra.write_text("coder,session,index,code,value,Maria\nA,s1,0,W_MINIMAL,1,x\n", "utf-8")
    assert main(["agree", str(extra)]) == 2
    err = capsys.readouterr().err
    assert "unknown column" in err and "Maria" not in err
    assert main(["agree", "--coder", "nonsense"]) == 2
    assert "NAME=FILE" in capsys.readouterr().err


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agree", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--coder", "--ratings", "--boot", "--seed", "--ci", "--json", "--csv", "--codes"):
        assert opt in text


def test_parquet_table_reads_like_csv(analyzed: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from attunement.agreement import agreement_report

    lab = tmp_path / "lab.csv"
    _lab_table(analyzed, lab)
    rows = list(csv.DictReader(lab.open(encoding="utf-8")))
    table = pa.table({k: [r[k] for r in rows] for k in rows[0]})
    pq.write_table(table, tmp_path / "lab.parquet")
    spec = [("model", str(analyzed))]
    a = agreement_report([lab], spec, boot=50)
    b = agreement_report([tmp_path / "lab.parquet"], spec, boot=50)
    assert a == b and a["codes"]["W_MINIMAL"]["n_both"] > 10
