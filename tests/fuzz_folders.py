"""Hostile client folders and training/evaluation files, from a :class:`random.Random`.

A generated tree is a :class:`Tree`: relative path → bytes, plus symbolic links (relative
path → target, which may point outside the folder). See ``fuzz_strategies`` for the rest.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from fuzz_strategies import (
    CANARY,
    HOSTILE,
    dump_json,
    huge_text,
    mutate_text,
    mutate_tree,
    sentence,
    session_json,
    transcript,
)


@dataclass
class Tree:
    files: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


# --- TOML -------------------------------------------------------------------------------
def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | dt.date):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return ("-inf" if v < 0 else "inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        if v == "__deep_nesting__":
            return "[" * 3000 + "]" * 3000
        if v.startswith("__int_") and v.endswith("__"):
            return "1" + "0" * int(v[6:-2])
        return json.dumps(v)  # TOML basic strings take JSON's escapes
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
        )
    return '""'


def toml_doc(doc: dict[str, Any]) -> str:
    lines, tables = [], []
    for k, v in doc.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.append((k, v))
        else:
            lines.append(f"{json.dumps(str(k))} = {toml_value(v)}")
    for k, rows in tables:
        for row in rows:
            lines.append(f"\n[[{json.dumps(str(k))}]]")
            lines += [f"{json.dumps(str(a))} = {toml_value(b)}" for a, b in row.items()]
    return "\n".join(lines) + "\n"


# --- client folders ---------------------------------------------------------------------
def client_toml(rng: random.Random, broken: bool = True) -> bytes:
    doc: dict[str, Any] = {
        "client_id": "C-0417",
        "treatment_start": dt.date(2026, 1, 5),
        "history_neglect_or_abuse": rng.random() < 0.5,
        "fragile": False,
        "sensitivity": rng.choice(["low", "normal", "high"]),
        "therapists": ["T", "Therapist"],
        "events": [
            {"date": dt.date(2026, 2, 2), "kind": "client_no_show", "session": 4, "note": CANARY},
            {"date": dt.date(2026, 3, 2), "kind": "therapist_missed"},
        ],
    }
    if not broken:
        return toml_doc(doc).encode()
    if rng.random() < 0.2:
        doc["transcripts"] = rng.choice(["transcripts", "../outside", "/", CANARY, "t" * 300])
    if rng.random() < 0.1:
        doc["instruments"] = rng.choice(["inst", "../outside", CANARY])
    text = toml_doc(mutate_tree(rng, doc, rng.choice([1, 1, 2, 3])))
    if rng.random() < 0.25:
        text = mutate_text(rng, text, rounds=rng.randint(1, 3))
    return text.encode("utf-8", errors="replace")


_ITEMS = [("phq9", f"phq9_{i}", 3) for i in range(1, 10)] + [
    ("gad7", f"gad7_{i}", 3) for i in (1, 2)
]


def _cell(rng: random.Random, good: str, broken: bool) -> str:
    if not broken or rng.random() < 0.93:
        return good
    return str(rng.choice([*HOSTILE, "1e400", "nan", "-0", "3.5", "10" * 3000, huge_text(rng)]))


def responses(rng: random.Random, broken: bool = True) -> tuple[str, bytes]:
    """responses.csv (long or wide) or responses.json."""
    records = []
    for session in range(1, rng.randint(1, 5)):
        date = (dt.date(2026, 1, 5) + dt.timedelta(days=7 * session)).isoformat()
        for inst, item, top in rng.sample(_ITEMS, rng.randint(1, 4)):
            records.append(
                {
                    "session": _cell(rng, str(session), broken),
                    "date": _cell(rng, date, broken),
                    "instrument": _cell(rng, inst, broken),
                    "item": _cell(rng, item, broken),
                    "value": _cell(rng, str(rng.randint(0, top)), broken),
                }
            )
    if rng.random() < 0.3:
        doc: Any = records if rng.random() < 0.5 else {"responses": records}
        doc = mutate_tree(rng, doc, rng.choice([1, 2]) if broken else 0)
        return "responses.json", dump_json(rng, doc).encode("utf-8", errors="replace")
    cols = ["session", "date", "instrument", "item", "value"]
    if broken and rng.random() < 0.1:
        cols.append(rng.choice([CANARY, "extra"]))
    rows = [",".join(cols)] + [
        ",".join(json.dumps(str(r.get(c, ""))) for c in cols) for r in records
    ]
    text = "\n".join(rows) + "\n"
    if broken and rng.random() < 0.25:
        text = mutate_text(rng, text, rounds=rng.randint(1, 2))
    return "responses.csv", text.encode("utf-8", errors="replace")


def _session_number(rng: random.Random, n: int, broken: bool) -> str:
    if not broken:
        return str(n)
    return rng.choice([str(n)] * 6 + ["0", "9" * 30, "1" + "0" * 200, "00007", "12345"])


def client_folder(rng: random.Random) -> Tree:
    """``in/`` with client.toml, responses and transcripts/; at most one of them broken
    (so most folders get through to the course engine and its reports). ``outside.txt``
    sits beside ``in/`` for links that escape the folder."""
    broken = rng.choice(["toml", "responses", "transcripts", "links", None, None])
    tree = Tree({"outside.txt": f"T: hi\nC: {CANARY}\n".encode()})
    if broken == "toml" or rng.random() < 0.8:
        tree.files["in/client.toml"] = client_toml(rng, broken == "toml")
    if broken == "responses" or rng.random() < 0.85:
        name, data = responses(rng, broken == "responses")
        tree.files[f"in/{name}"] = data
    for i in range(rng.choice([0, 1, 2, 3])):
        number = _session_number(rng, i + 1, broken == "transcripts")
        if broken == "transcripts" and rng.random() < 0.4:
            tree.files[f"in/transcripts/session-{number}.session.json"] = session_json(rng)
        elif broken == "transcripts":
            name, data = transcript(rng)
            ext = name.rsplit(".", 1)[-1] if "." in name else "txt"
            ext = ext if ext in ("txt", "vtt", "srt", "docx", "json", "md") else "txt"
            tree.files[f"in/transcripts/session-{number}.{ext}"] = data
        else:
            tree.files[f"in/transcripts/session-{number}.txt"] = _good_transcript(rng)
    if broken == "links":
        tree.links["in/transcripts/session-99.txt"] = "../../outside.txt"
        if rng.random() < 0.3:
            tree.links["in/responses.csv"] = "../outside.txt"
    return tree


def _good_transcript(rng: random.Random) -> bytes:
    lines = [f"{'Therapist' if i % 2 == 0 else 'Client'}: {sentence(rng)}" for i in range(6)]
    return "\n".join(lines).encode()


# --- training and evaluation data -------------------------------------------------------
_CODES = ["W_MINIMAL", "W_ABSTRACT", "C_COMPLAINT_THERAPIST", "BOGUS", CANARY]


def _record(rng: random.Random, i: int, broken: bool) -> dict[str, Any]:
    role = ["therapist", "client"][i % 2]
    rec: dict[str, Any] = {"role": role, "text": sentence(rng), "group": f"g{i % 4}"}
    if role == "client":
        rec["codes"] = (
            rng.sample(_CODES[:2], rng.randint(0, 1))
            if not broken or rng.random() < 0.9
            else [rng.choice(_CODES)]
        )
    else:
        rec["codes"] = []
        rec["empathy"] = {"E_EXPLORATION": rng.choice(["none", "weak", "strong", 2])}
        if rng.random() < 0.5:
            choices = ["question_open", "reflection_simple"] + ([CANARY] if broken else [])
            rec["behaviour"] = rng.choice(choices)
    if rng.random() < 0.2:
        rec["context"] = [{"role": "client", "text": sentence(rng)}]
    return rec


def training_data(rng: random.Random) -> tuple[str, bytes]:
    """A coded-utterance file: JSONL, CSV or the session-corpus text format; two in five
    are well formed (so training itself runs), the rest broken somewhere."""
    broken = rng.random() < 0.6
    n = rng.choice([1, 2, 6, 20, 40]) if broken else rng.choice([24, 40])
    records = [_record(rng, i, broken) for i in range(n)]
    if broken and rng.random() < 0.3:  # one class only
        for r in records:
            r["role"], r["codes"] = "client", []
    kind = rng.choice(["jsonl", "jsonl", "csv", "txt"])
    rounds = [0, 0, 0, 1] if broken else [0]
    if kind == "jsonl":
        lines = [dump_json(rng, mutate_tree(rng, r, rng.choice(rounds))) for r in records]
        text = "\n".join(lines)
    elif kind == "csv":
        rows = ["role,text,codes,session,E_EXPLORATION"]
        rows += [
            ",".join(
                json.dumps(str(v))
                for v in (
                    r["role"],
                    r["text"],
                    ";".join(r.get("codes", [])),
                    r["group"],
                    r.get("empathy", {}).get("E_EXPLORATION", ""),
                )
            )
            for r in records
        ]
        text = "\n".join(rows)
    else:
        text = _corpus_text(rng, records, broken)
    if broken and rng.random() < 0.3:
        text = mutate_text(rng, text, rounds=rng.randint(1, 3))
    return f"data.{kind}", text.encode("utf-8", errors="replace")


def _corpus_text(rng: random.Random, records: list[dict[str, Any]], broken: bool) -> str:
    head = ["=== session: s1", "setting: x", "approach: CBT", "register: clean"]
    head += ["variety: British English", "speakers: T=therapist; C=client", "---"]
    body = []
    for r in records:
        codes = ",".join(r.get("codes") or []) or "-"
        if r["role"] == "therapist":
            behaviour = rng.choice(["qo", "rs"] + (["zz"] if broken else []))
            levels = rng.choice(["001", "110"] + (["9"] if broken else []))
            body.append(f"T | {behaviour} | {levels} | - | {r['text']}")
        else:
            body.append(f"C | {codes} | {r['text']}")
    return "\n".join(head + body) + "\n"


def codebook_map(rng: random.Random) -> bytes:
    doc: dict[str, Any] = {"map": {"WITHDRAW-MIN": "W_MINIMAL"}, "codes": {"CHANGE_TALK": "client"}}
    if rng.random() < 0.5:
        doc["map"][CANARY] = rng.choice(["W_MINIMAL", CANARY])
    text = toml_doc(mutate_tree(rng, doc, rng.choice([0, 1, 2])))
    text = text.replace('"map" = ', "map = ").replace('"codes" = ', "codes = ")
    return mutate_text(rng, text, rounds=rng.choice([0, 0, 1])).encode("utf-8", errors="replace")


def evaluation_pair(rng: random.Random) -> Tree:
    """gold.json and pred.json session files for ``attune evaluate --pred``."""
    return Tree({"in/gold.json": session_json(rng), "in/pred.json": session_json(rng)})
