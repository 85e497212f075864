"""Hostile-input generators shared by the fuzz tests and ``benchmarks/fuzz.py``.

Two layers:

* hypothesis strategies (``TOKENS``, ``structured``, ``names``) for the reader tests in
  ``tests/io/test_fuzz.py``;
* plain generators ``f(rng) -> value`` driven by a :class:`random.Random`, so the tests
  (``@given(seed=...)``) and the benchmark (100,000+ seeds in worker processes) produce
  exactly the same inputs from the same seed.

Every generated document plants :data:`CANARY` in the places session content lives
(text, speaker labels, cells, notes, keys). No error message may ever contain it.
"""

from __future__ import annotations

import functools
import io
import json
import random
import re
import zipfile
from typing import Any

from hypothesis import strategies as st

#: stands for session content (PHI); an error message that contains it quotes the input
CANARY = "Qz canary Qz"
CANARY_MARK = "canary"  # what the checks look for, case-insensitively

#: pieces that steer random text into the readers' deeper branches
TOKENS = [
    "WEBVTT",
    "NOTE",
    "\n",
    "\n\n",
    "1\n",
    "00:00:01.000 --> 00:00:02.000",
    "00:00:01,000 -->",
    " --> ",
    "-->",
    "<v Dr. Lee>",
    "</v>",
    "<i>",
    "T: ",
    "C: ",
    "Therapist: ",
    "Client 2: ",
    "Maria: ",
    "Dr. Lee   0:03",
    "[00:12:03] ",
    "(12:03) ",
    "99:99",
    "speaker,text,start,codes\n",
    ",",
    ";",
    "\t",
    '"',
    "W_MINIMAL",
    "E_EXPLORATION:strong",
    "BOGUS",
    "-5",
    "1e309",
    "nan",
    '{"utterances": [',
    '{"speaker": "T", "text": "hi", "start": ',
    "]}",
    "[",
    "{",
    "}",
    '"schema_version": "attunement.session/1"',
    "&amp;",
    "{\\an8}",
    "?",
    "hello there",
]

#: extra pieces only the rng generators use: numbers and characters that broke things before
HOSTILE = [
    CANARY,
    CANARY + ": ",
    "\x1b[2J\x1b[31m",
    "\x07\x08\r",
    "\u202e\u2066",
    "\x85\u2028",
    "\x00",
    "9" * 400,
    "1" + "0" * 4400,
    "1e308",
    "Infinity",
    "-1",
    "99999999999:00:00.000",
    "00:00:00.000 --> 99999999999:59:59.999",
    "[" * 300,
    "&#0;&#x110000;&#99999999999;",
]

# --- hypothesis strategies (reader tests) ------------------------------------------------
# the shared pieces plus the canary, in labels and in text
_piece = st.sampled_from([*TOKENS, CANARY, CANARY + ": "]) | st.text(max_size=8)
_line = st.lists(_piece, min_size=1, max_size=6).map("".join)
_prefix = st.sampled_from(
    ["T: ", "C: ", "Dr. Lee: ", "Maria: ", "[00:00:0{}] Sam: ", "", "<v Ann>", CANARY + ": "]
)
_labelled = st.lists(st.tuples(_prefix, _line).map("".join), min_size=1, max_size=12)
_vtt = _labelled.map(
    lambda lines: (
        "WEBVTT\n\n"
        + "\n\n".join(
            f"00:00:{i:02d}.000 --> 00:00:{i + 1:02d}.500\n{x}" for i, x in enumerate(lines)
        )
    )
)
_csv = _labelled.map(
    lambda lines: (
        "speaker,text,start,codes\n" + "\n".join(line.replace(": ", ",", 1) for line in lines)
    )
)
structured = st.lists(_piece, max_size=40).map("".join) | _labelled.map("\n".join) | _vtt | _csv
names = st.sampled_from(["x.txt", "x.vtt", "x.srt", "x.csv", "x.tsv", "x.json", "x.docx", "x"])

# --- plain generators -------------------------------------------------------------------
LABELS = ["T", "C", "Therapist", "Client", "Dr. Lee", "Maria", CANARY, "Client 2", "Ann"]
WORDS = "I guess it was fine really just a lot going on with work and home you know".split()  # noqa: SIM905


def rbytes(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n) if type(rng) is random.Random else bytes(rng.choices(range(256), k=n))


def sentence(rng: random.Random) -> str:
    """A short utterance; one in three carries the canary."""
    words = rng.choices(WORDS, k=rng.randint(1, 9))
    if rng.random() < 0.35:
        words.insert(rng.randrange(len(words) + 1), CANARY)
    if rng.random() < 0.15:
        words.append(rng.choice(HOSTILE))
    return " ".join(words)


def huge_text(rng: random.Random) -> str:
    """Over the csv module's 131,072-character field limit, or just long."""
    return CANARY + " " + "x" * rng.choice([131_073, 140_000, 20_000])


def mutate_text(rng: random.Random, text: str, rounds: int | None = None) -> str:
    """Splice tokens, cut, duplicate or blow up pieces of ``text``."""
    for _ in range(rng.randint(0, 3) if rounds is None else rounds):
        i = rng.randrange(len(text) + 1)
        op = rng.randrange(7)
        if op == 0:
            text = text[:i] + rng.choice(TOKENS + HOSTILE) + text[i:]
        elif op == 1:
            text = text[:i]
        elif op == 2:
            j = min(len(text), i + rng.randint(1, 40))
            text = text[:i] + text[i:j] * rng.choice([2, 3, 50]) + text[j:]
        elif op == 3:
            j = min(len(text), i + rng.randint(1, 20))
            text = text[:i] + text[j:]
        elif op == 4:
            text = text[:i] + huge_text(rng) + text[i:]
        elif op == 5:
            text = text[:i] + chr(rng.choice([0, 1, 0x1B, 0x7F, 0x85, 0x9B, 0xFEFF])) + text[i:]
        else:
            text = text[:i] + rng.choice(["9" * 30, "1" + "0" * 5000, "-0", "1e-400"]) + text[i:]
    return text


def _turns(rng: random.Random) -> list[tuple[str, str]]:
    n = rng.randint(1, 14)
    labels = rng.sample(LABELS, 2) + ([rng.choice(LABELS)] if rng.random() < 0.3 else [])
    return [(labels[i % len(labels)], sentence(rng)) for i in range(n)]


def _timestamp(rng: random.Random, seconds: float, sep: str = ".") -> str:
    if rng.random() < 0.03:
        return rng.choice(["99:99:99.999", "1:00", "00:00:01", "-00:00:01.000", "9" * 20 + ":00"])
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}".replace(".", sep)


def _cues(rng: random.Random, turns: list[tuple[str, str]], sep: str) -> list[str]:
    out, t = [], 0.0
    for i, (label, text) in enumerate(turns, start=1):
        a, b = _timestamp(rng, t, sep), _timestamp(rng, t + rng.uniform(-1, 5), sep)
        payload = f"<v {label}>{text}</v>" if rng.random() < 0.3 else f"{label}: {text}"
        out.append(f"{i}\n{a} --> {b}\n{payload}")
        t += rng.uniform(0, 10)
    return out


@functools.cache
def _docx_parts() -> dict[str, bytes]:
    """The parts of an empty Word document written by python-docx (built once)."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def docx_bytes(rng: random.Random, paragraphs: list[str]) -> bytes:
    """A Word document (or a damaged one) holding ``paragraphs``."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{_xml(p)}</w:t></w:r></w:p>" for p in paragraphs)
    if rng.random() < 0.3:
        cells = "".join(
            f"<w:tc><w:p><w:r><w:t>{_xml(p)}</w:t></w:r></w:p></w:tc>" for p in paragraphs[:3]
        )
        body += f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>"
    doc = f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>'
    if rng.random() < 0.2:
        doc = mutate_text(rng, doc, rounds=rng.randint(1, 3))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in _docx_parts().items():
            if name == "word/document.xml":
                part = doc.encode("utf-8", errors="replace")
            if rng.random() < 0.995:
                archive.writestr(name, part)
        if rng.random() < 0.05:
            archive.writestr("word/bomb.xml", "A" * 3_000_000)
    data = buffer.getvalue()
    if rng.random() < 0.15:
        i = rng.randrange(len(data))
        data = data[:i] + rbytes(rng, rng.randint(1, 16)) + data[i + rng.randint(0, 16) :]
    return data


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def transcript(rng: random.Random) -> tuple[str, bytes]:
    """A (file name, bytes) transcript in any reader's format, more or less broken."""
    turns = _turns(rng)
    kind = rng.choice(["txt", "txt", "vtt", "srt", "csv", "tsv", "json", "docx", "md", "bytes"])
    if kind == "bytes":
        return rng.choice(["x.txt", "x.vtt", "x.json", "x"]), rbytes(rng, rng.randint(0, 400))
    if kind == "docx":
        return "x.docx", docx_bytes(rng, [f"{a}: {b}" for a, b in turns])
    if kind in ("txt", "md"):
        stamp = rng.random() < 0.3
        text = "\n".join(
            (f"[00:00:{i % 60:02d}] " if stamp else "") + f"{a}: {b}"
            for i, (a, b) in enumerate(turns)
        )
    elif kind == "vtt":
        text = "WEBVTT\n\n" + "\n\n".join(_cues(rng, turns, "."))
    elif kind == "srt":
        text = "\n\n".join(_cues(rng, turns, ","))
    elif kind in ("csv", "tsv"):
        sep = "," if kind == "csv" else "\t"
        rows = [sep.join(["speaker", "text", "start", "codes"])]
        rows += [
            sep.join([a, json.dumps(b), str(i * rng.choice([1, 1e308, 10**30])), "W_MINIMAL"])
            for i, (a, b) in enumerate(turns)
        ]
        text = "\n".join(rows)
    else:
        records = [{"speaker": a, "text": b, "start": i * 1.5} for i, (a, b) in enumerate(turns)]
        text = json.dumps({"utterances": records} if rng.random() < 0.7 else records)
    if rng.random() < 0.4:
        text = mutate_text(rng, text)
    encoding = rng.choice(["utf-8"] * 6 + ["utf-16", "utf-8-sig", "cp1252"])
    name = f"x.{kind}" if rng.random() < 0.85 else rng.choice(["x.txt", "x.json", "x", "x.vtt"])
    return name, text.encode(encoding, errors="replace")


# --- session JSON -----------------------------------------------------------------------
_DEEP = "__deep_nesting__"
#: a huge integer stands in the tree as this marker (str(int) stops at 4,300 digits)
_HUGE_INT = re.compile(r'"__int_(\d+)__"')


def session_doc(rng: random.Random) -> dict[str, Any]:
    """A valid ``attunement.session/1`` document (before mutation)."""
    utterances, t = [], 0.0
    for i in range(rng.randint(2, 8)):
        role = "therapist" if i % 2 == 0 else "client"
        anns = []
        if rng.random() < 0.4:
            code = "W_MINIMAL" if role == "client" else "E_EXPLORATION"
            level = None if role == "client" else rng.choice(["weak", "strong"])
            anns.append(
                {
                    "code": code,
                    "probability": 0.9,
                    "level": level,
                    "source": "human",
                    "note": CANARY,
                }
            )
        utterances.append(
            {
                "id": f"u{i + 1:04d}",
                "index": i,
                "speaker": "T" if role == "therapist" else "C",
                "role": role,
                "text": sentence(rng),
                "start": t,
                "end": t + 2.5,
                "line": i + 1,
                "annotations": anns,
                "features": {"valence": 0.1},
                "meta": {},
            }
        )
        t += rng.uniform(0, 30)
    return {
        "schema_version": "attunement.session/1",
        "id": "0123456789abcdef",
        "source": "x.txt",
        "format": "text",
        "meta": {"client_id": "c1", "session_number": 3, "date": "2026-03-09"},
        "speakers": [
            {"id": "T", "role": "therapist", "role_confidence": 1.0},
            {"id": "C", "role": "client", "role_confidence": 0.9},
        ],
        "utterances": utterances,
        "metrics": {},
        "episodes": [],
        "warnings": [],
        "provenance": [],
    }


def hostile_value(rng: random.Random) -> Any:
    """Something no field expects: out-of-range numbers, hostile strings, odd shapes."""
    return rng.choice(
        [
            lambda: 10 ** rng.choice([9, 19, 30, 300]),
            lambda: f"__int_{rng.choice([400, 4301, 6000])}__",  # written as digits by dump_json
            lambda: -(10 ** rng.choice([0, 9, 30])),
            lambda: rng.choice([1e308, -1e308, 5e-324, 1.7976931348623157e308]),
            lambda: rng.choice([float("inf"), float("-inf"), float("nan")]),
            lambda: rng.choice(HOSTILE),
            lambda: CANARY + rng.choice(["", "\x1b[31m", "\ud800", "\x00"]),
            lambda: huge_text(rng),
            lambda: rng.choice([None, True, "", " ", [], {}, [CANARY], {CANARY: CANARY}]),
            lambda: _DEEP,
            lambda: "2026-02-30",
        ]
    )()


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def mutate_tree(rng: random.Random, doc: Any, rounds: int) -> Any:
    """Replace, add, delete or multiply nodes of a JSON tree (in place where possible)."""
    for _ in range(rounds):
        path = rng.choice(_paths(doc))
        if not path:
            continue
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        key = path[-1]
        op = rng.randrange(10)
        if op < 6:
            parent[key] = hostile_value(rng)
        elif op == 6 and isinstance(parent, dict):
            del parent[key]
        elif op == 7 and isinstance(parent, dict):
            parent[rng.choice([CANARY, "extra", "x" * 50])] = hostile_value(rng)
        elif op == 8 and isinstance(parent, list):
            parent.extend([parent[key]] * rng.choice([1, 5, 300]))
        else:
            parent[key] = rng.choice([str(parent[key]), [parent[key]], {"v": parent[key]}])
    return doc


def dump_json(rng: random.Random, doc: Any) -> str:
    """JSON text with Infinity/NaN allowed and ``_DEEP`` markers as deep nesting."""
    text = json.dumps(doc, allow_nan=True, ensure_ascii=rng.random() < 0.5)
    depth = rng.choice([60, 2_000, 120_000])
    text = text.replace(json.dumps(_DEEP), "[" * depth + "]" * depth)
    return _HUGE_INT.sub(lambda m: "1" + "0" * int(m.group(1)), text)


def session_json(rng: random.Random) -> bytes:
    """A session JSON file: valid, or mutated in its values, shape or bytes."""
    doc = mutate_tree(rng, session_doc(rng), rng.choice([0, 1, 1, 2, 3, 5]))
    text = dump_json(rng, doc)
    if rng.random() < 0.25:
        text = mutate_text(rng, text, rounds=rng.randint(1, 3))
    return text.encode("utf-8", errors="surrogatepass" if rng.random() < 0.1 else "replace")
