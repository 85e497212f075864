"""Hostile and careless input through every entry point (issue 8, the proof).

Each test draws seeds with hypothesis (derandomized: the same seeds on every run, so CI
is reproducible) and builds the input with the generators in ``fuzz_targets`` — the same
inputs ``benchmarks/fuzz.py`` runs at scale. For every input: only the project's own
error escapes a library call, the CLI exits 0 or 2, no error message contains the
canary planted in the content, a failed command leaves nothing in its output folder and
no run leaves a temp file, and terminal/Markdown output has no raw control characters.
A failure names the case, so ``make_case(kind, seed)`` rebuilds it.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_folders import Tree, toml_doc
from fuzz_strategies import CANARY, session_doc
from fuzz_targets import Case, make_case, run_case

#: one input may take this long on a loaded machine before it counts as a hang
LIMIT_S = 30.0
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


def check(case: Case, label: str = "") -> None:
    with tempfile.TemporaryDirectory(prefix="attune-fuzz-") as root:
        outcome = run_case(case, Path(root), LIMIT_S)
    label = label or f"make_case({case.kind!r}, {case.seed})"
    assert not outcome.failed, f"{outcome.status}: {outcome.detail} — input {label}"
    assert outcome.status in ("ok", "refused")


@fuzz(150)
@given(seed=SEEDS)
def test_readers_and_writers(seed: int) -> None:
    """read_session_bytes on any format, then the pipeline and all four writers."""
    check(make_case("read", seed))


@fuzz(60)
@given(seed=SEEDS)
def test_analyze_command(seed: int) -> None:
    """`attune analyze --fast` with --json, --html and --markdown into one folder."""
    check(make_case("analyze", seed))


@fuzz(30)
@given(seed=SEEDS)
def test_client_command(seed: int) -> None:
    """`attune client DIR` with client.toml, responses and transcripts, --json/--html/--fhir."""
    check(make_case("client", seed))


@fuzz(120)
@given(seed=SEEDS)
def test_training_data_reader(seed: int) -> None:
    """read_examples on JSONL, CSV and session-corpus files, with or without a codebook map."""
    check(make_case("examples", seed))


@fuzz(50)
@given(seed=SEEDS)
def test_evaluate_command(seed: int) -> None:
    """`attune evaluate` with session JSON gold/pred, or a corpus file and the fast model."""
    check(make_case("evaluate", seed))


@fuzz(4)
@given(seed=SEEDS)
def test_train_command(seed: int) -> None:
    """`attune train` on tiny files (static encoder): slow, so only a handful."""
    check(make_case("train", seed))


# --- the inputs named in the issue, one by one --------------------------------------------
def _session(**changes: object) -> dict[str, object]:
    doc = session_doc(random.Random(0))
    utterance = doc["utterances"][0]  # type: ignore[index]
    for key, value in changes.items():
        target = doc["meta"] if key == "session_number" else utterance  # type: ignore[index]
        target[key] = value  # type: ignore[index]
    return doc


def _json(doc: object) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def _analyze(name: str, data: bytes, **extra: bytes) -> Case:
    files = {f"in/{name}": data} | {f"out/{k}": v for k, v in extra.items()}
    argv = ["analyze", "{root}/in/" + name, "--fast"]
    argv += ["--json", "{root}/out", "--html", "{root}/out", "--markdown", "{root}/out"]
    return Case("analyze", -1, Tree(files), argv)


def _client(files: dict[str, bytes], links: dict[str, str] | None = None) -> Case:
    tree = Tree({"outside.txt": f"T: hi\nC: {CANARY}\n".encode()}, links or {})
    tree.files |= {f"in/{k}": v for k, v in files.items()}
    argv = ["client", "{root}/in", "--json", "{root}/out/c.json"]
    argv += ["--html", "{root}/out/c.html", "--fhir", "{root}/out/c.fhir.json"]
    return Case("client", -1, tree, argv)


def _evaluate(gold: object, pred: object) -> Case:
    tree = Tree({"in/gold.json": _json(gold), "in/pred.json": _json(pred)})
    argv = ["evaluate", "--gold", "{root}/in/gold.json", "--pred", "{root}/in/pred.json"]
    return Case("evaluate", -1, tree, argv)


_STATIC = ["--encoder", "static", "--min-support", "1"]
_TOML = toml_doc({"client_id": "C-1", "therapists": ["Therapist"]}).encode()
_TALK = f"Therapist: How was the week?\nClient: {CANARY} it was hard.\nTherapist: Hard?\n"
_RESPONSES = b"session,date,instrument,item,value\n1,2026-01-05,phq9,phq9_1,2\n"
_DEEP_JSON = b'{"schema_version": "attunement.session/1", "x": ' + b"[" * 200_000 + b"]" * 200_000
_ONE_CLASS = "\n".join(
    json.dumps({"role": "client", "text": f"{CANARY} {i}", "codes": []}) for i in range(12)
).encode()

KNOWN = {
    "start Infinity": _analyze("x.json", _json(_session(start=float("inf"), end=None))),
    "start 1e308": _analyze("x.json", _json(_session(start=1e308, end=1e308))),
    "start NaN": _analyze("x.json", _json(_session(start=float("nan")))),
    "index 10**9": _analyze("x.json", _json(_session(index=10**9))),
    "session_number 10**30": _analyze("x.json", _json(_session(session_number=10**30))),
    "int of 5,000 digits": _analyze(
        "x.json", _json(_session(line=0)).replace(b'"line": 0', b'"line": 1' + b"0" * 5000)
    ),
    "JSON nested 200,000 deep": _analyze("x.json", _DEEP_JSON),
    "control characters in text": _analyze(
        "x.json", _json(_session(text=f"{CANARY} \x1b[2J\x1b]0;title\x07 \x9b31m \r done"))
    ),
    "lone surrogate in text": _analyze("x.json", _json(_session(text="\ud800 " + CANARY))),
    "CSV cell over 131,072 characters": _analyze(
        "x.csv", f"speaker,text\nT,{CANARY} {'x' * 140_000}\nC,fine\n".encode()
    ),
    "damaged DOCX": _analyze(
        "x.docx", b"PK\x03\x04" + b"\x00" * 26 + b"word/document.xml" + b"\xff" * 64
    ),
    "output name taken by a folder": _analyze("x.txt", _TALK.encode(), **{"x.html/keep": b""}),
    "client: JSON session number 10**30": _client(
        {
            "client.toml": _TOML,
            "transcripts/session-1.session.json": _json(_session(session_number=10**30)),
        }
    ),
    "client: 200-digit session number in a file name": _client(
        {"client.toml": _TOML, f"transcripts/session-{'9' * 200}.txt": _TALK.encode()}
    ),
    "client: client.toml nested 3,000 deep": _client(
        {"client.toml": b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n"}
    ),
    "client: client.toml int of 5,000 digits": _client(
        {"client.toml": b'client_id = "C-1"\nx = 1' + b"0" * 5000 + b"\n"}
    ),
    "client: transcript folder name of 300 characters": _client(
        {"client.toml": _TOML + b'transcripts = "' + b"t" * 300 + b'"\n'}
    ),
    "client: transcript linked from outside the folder": _client(
        {"client.toml": _TOML, "responses.csv": _RESPONSES},
        {"in/transcripts/session-2.txt": "../../outside.txt"},
    ),
    "client: responses cell over 131,072 characters": _client(
        {"responses.csv": _RESPONSES + f"2,2026-01-12,phq9,phq9_1,{'7' * 140_000}\n".encode()}
    ),
    "train: one class only": Case(
        "train",
        -1,
        Tree({"in/data.jsonl": _ONE_CLASS}),
        ["train", "--data", "{root}/in/data.jsonl", "--out", "{root}/out/model", *_STATIC],
    ),
    "evaluate: empathy level that is not a level": _evaluate(
        _session(), _session(annotations=[{"code": "E_EXPLORATION", "level": CANARY}])
    ),
    "evaluate: utterance id missing from pred": _evaluate(_session(id=CANARY), _session()),
    "evaluate: unknown key in pred": Case(
        "evaluate",
        -1,
        Tree(
            {
                "in/gold.json": _json(_session()),
                "in/pred.json": _json(_session(**{CANARY: 1})),
            }
        ),
        ["evaluate", "--gold", "{root}/in/gold.json", "--pred", "{root}/in/pred.json"],
    ),
}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_hostile_input(name: str) -> None:
    check(KNOWN[name], f"KNOWN[{name!r}]")
