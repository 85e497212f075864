"""`attune train` reads a lab's coder table: the same examples as the equivalent JSONL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.coding.data import read_examples
from attunement.errors import SchemaError

CLIENT = {
    "W_MINIMAL": ["Yeah.", "I guess.", "Fine.", "Whatever.", "Sure."],
    "C_PARAMETERS": ["This isn't helping at all.", "Why do we keep doing these sheets?"],
    "": ["Work was busy, we had the audit.", "My sister visited on Sunday."],
}
THERAPIST = [
    ("It sounds like that really hurt.", "E_EMOTIONAL_REACTION", "strong", "reflection_complex"),
    ("What was that like for you?", "E_EXPLORATION", "strong", "question_open"),
    ("You could try writing it down.", "", "none", "advice"),
]


def _records() -> list[dict[str, object]]:
    """Eight sessions alternating client and therapist turns; no context (from history)."""
    recs: list[dict[str, object]] = []
    for g in range(8):
        for i in range(6):
            code = list(CLIENT)[i % 3]
            texts = CLIENT[code]
            recs.append(
                {
                    "id": f"s{g}:{2 * i}",
                    "group": f"s{g}",
                    "role": "client",
                    "text": texts[(g + i) % len(texts)],
                    "codes": [code] if code else [],
                }
            )
            text, emp, lv, beh = THERAPIST[(g + i) % 3]
            empathy = {
                e: (lv if e == emp else "none") for e in ("E_EMOTIONAL_REACTION", "E_EXPLORATION")
            }
            recs.append(
                {
                    "id": f"s{g}:{2 * i + 1}",
                    "group": f"s{g}",
                    "role": "therapist",
                    "text": text,
                    "codes": [],
                    "empathy": empathy,
                    "behaviour": beh,
                }
            )
    return recs


def _write_both(tmp_path: Path) -> tuple[Path, Path]:
    recs = _records()
    jsonl = tmp_path / "coded.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    table = tmp_path / "table.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["coder", "session", "index", "code", "value", "role", "text"])
        for r in recs:
            g, idx = str(r["id"]).split(":")
            base = ["lab", g, idx]
            if r["role"] == "client":
                for code in ("W_MINIMAL", "C_PARAMETERS"):
                    w.writerow([*base, code, int(code in r["codes"]), "client", r["text"]])  # type: ignore[operator]
            else:
                w.writerow([*base, "F_PREMATURE", 0, "therapist", r["text"]])
                for code, lv in r["empathy"].items():  # type: ignore[attr-defined]
                    w.writerow([*base, code, lv, "therapist", r["text"]])
                w.writerow([*base, "behaviour", r["behaviour"], "therapist", r["text"]])
    return jsonl, table


def test_coder_table_gives_the_same_examples_as_jsonl(tmp_path: Path) -> None:
    jsonl, table = _write_both(tmp_path)
    a, b = read_examples(jsonl), read_examples(table)
    assert len(a) == len(b) == 96

    def key(e: object) -> tuple[object, ...]:
        return (e.id, e.group, e.item, e.codes, e.empathy, e.behaviour)  # type: ignore[attr-defined]

    assert [key(e) for e in a] == [key(e) for e in b]


def test_train_on_a_coder_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, table = _write_both(tmp_path)
    out = tmp_path / "model"
    code = main(
        [
            "train",
            "--data",
            str(table),
            "--out",
            str(out),
            "--encoder",
            "static",
            "--min-support",
            "4",
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert report["model"] == str(out)
    assert card["training"]["n_train"] + card["training"]["n_valid"] == 96
    assert "W_MINIMAL" in json.dumps(card["heads"])


def test_a_table_of_several_coders_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "coder,session,index,code,value,role,text\nA,s,0,W_MINIMAL,1,client,Yeah.\n"
        "B,s,0,W_MINIMAL,0,client,Yeah.\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError, match="several coders"):
        read_examples(path)
    path.write_text("coder,session,index,code,value\nA,s,0,W_MINIMAL,1\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="'role' and 'text'"):
        read_examples(path)
