"""Corpus v2: whole coded sessions, real base rates, and no text taken from the tests.

The corpus trains the shipped model, so it must not contain (or paraphrase) the bundled
examples, the tests' fixtures or the public evaluation data: those measure the model. A
corpus sentence whose TF-IDF cosine with such a sentence is >= 0.9 fails the test.
"""

from __future__ import annotations

import ast
import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from attunement.coding.corpus_format import (
    CLIENT_CODES,
    THERAPIST_CODES,
    CorpusFormatError,
    parse_text,
    read_files,
)
from attunement.coding.data import read_examples

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus" / "v2" / "sessions"
SHARED = REPO.parent / "shared" / "data"
MIN_WORDS = 8
NEAR_DUP = 0.9
_SENT = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z']+")


@pytest.fixture(scope="module")
def sessions():  # type: ignore[no-untyped-def]
    return read_files(CORPUS.glob("*.txt"))


def test_corpus_size_and_every_turn_coded(sessions) -> None:  # type: ignore[no-untyped-def]
    turns = [t for s in sessions for t in s.turns]
    assert len(sessions) >= 300
    assert len(turns) >= 20_000
    assert all(t.behaviour and len(t.empathy) == 3 for t in turns if t.role == "therapist")


def test_base_rates_look_like_therapy(sessions) -> None:  # type: ignore[no-untyped-def]
    client = [t for s in sessions for t in s.turns if t.role == "client"]
    therapist = [t for s in sessions for t in s.turns if t.role == "therapist"]
    marked = sum(bool(t.codes) for t in client) / len(client)
    failed = sum(any(c.startswith("F_") for c in t.codes) for t in therapist) / len(therapist)
    assert 0.03 < marked < 0.35, "most client turns carry no marker"
    assert failed < 0.12, "most therapist turns are not failures"
    no_rupture = sum(not any(t.codes for t in s.turns if t.role == "client") for s in sessions)
    assert no_rupture >= 5, "some sessions have no rupture at all"


def test_every_code_has_examples_in_context(sessions) -> None:  # type: ignore[no-untyped-def]
    counts = Counter(c for s in sessions for t in s.turns for c in t.codes)
    for code in (*CLIENT_CODES, *THERAPIST_CODES):
        assert counts[code] >= 20, code
    registers = Counter(s.header["register"] for s in sessions)
    assert set(registers) == {"clean", "disfluent", "asr", "chat", "peer"}
    assert all(n >= 10 for n in registers.values())


def test_sessions_read_as_training_examples_with_context() -> None:
    ex = read_examples(CORPUS)
    assert len({e.group for e in ex}) >= 300
    later = [e for e in ex if e.id.endswith(":2")]
    assert later and all(e.item.context for e in later)


def test_format_errors_name_file_and_line_never_the_text() -> None:
    bad = (
        "=== session: z-1\nsetting: s\napproach: a\nregister: clean\nvariety: v\n"
        "speakers: T=therapist; C=client\n---\nC | W_SECRETLY_SAD | my private words\n"
    )
    with pytest.raises(CorpusFormatError) as err:
        parse_text(bad, "f.txt")
    assert "f.txt: line 8" in str(err.value)
    assert "private" not in str(err.value)


# --- near-duplicates of test material ---------------------------------------------------
def _sentences(text: str) -> list[str]:
    out = []
    for part in _SENT.split(text):
        if len(_WORD.findall(part.lower())) >= MIN_WORDS:
            out.append(part.strip())
    return out


def _python_strings(path: Path) -> list[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return []
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _reference_sentences() -> dict[str, list[str]]:
    refs: dict[str, list[str]] = {"examples": [], "tests": []}
    for f in (REPO / "src" / "attunement" / "examples").rglob("*"):
        if f.is_file() and f.suffix in {".txt", ".vtt", ".srt", ".csv", ".json", ".md", ".toml"}:
            refs["examples"] += _sentences(f.read_text(encoding="utf-8", errors="replace"))
    for f in (REPO / "tests").rglob("*"):
        if not f.is_file() or f.name == Path(__file__).name:
            continue
        if f.suffix == ".py":
            for s in _python_strings(f):
                refs["tests"] += _sentences(s)
        elif f.suffix in {".txt", ".vtt", ".srt", ".csv", ".json", ".jsonl", ".toml"}:
            refs["tests"] += _sentences(f.read_text(encoding="utf-8", errors="replace"))
    return refs


def _shared_sentences() -> list[str]:
    out: list[str] = []
    annomi = SHARED / "annomi" / "annomi_dev.csv"
    if annomi.exists():
        with annomi.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                out += _sentences(row.get("utterance_text", ""))
    for f in sorted((SHARED / "epitome").glob("*_dev.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                for key in ("seeker_post", "response_post"):
                    out += _sentences(row.get(key, ""))
    return out


def _near_duplicates(corpus: list[str], refs: list[str]) -> list[tuple[int, int, float]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not corpus or not refs:
        return []
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(corpus + refs)
    a, b = vec.transform(corpus), vec.transform(refs)
    sims = (a @ b.T).tocoo()
    return [
        (i, j, v) for i, j, v in zip(sims.row, sims.col, sims.data, strict=True) if v >= NEAR_DUP
    ]


@pytest.fixture(scope="module")
def corpus_sentences():  # type: ignore[no-untyped-def]
    files = [*CORPUS.glob("*.txt"), *(CORPUS.parent / "next").glob("*.txt")]
    every = read_files(files)
    return sorted({s for sess in every for t in sess.turns for s in _sentences(t.text)})


@pytest.mark.parametrize("kind", ["examples", "tests"])
def test_no_corpus_sentence_is_a_near_duplicate_of_test_material(corpus_sentences, kind) -> None:  # type: ignore[no-untyped-def]
    refs = sorted(set(_reference_sentences()[kind]))
    assert refs, f"no {kind} sentences found: the check would be empty"
    hits = _near_duplicates(corpus_sentences, refs)
    # Report positions only: the sentences themselves are test material.
    assert not hits, f"{len(hits)} corpus sentences are near-duplicates of {kind} sentences"


def test_no_corpus_sentence_is_a_near_duplicate_of_evaluation_data(corpus_sentences) -> None:  # type: ignore[no-untyped-def]
    refs = sorted(set(_shared_sentences()))
    if not refs:
        pytest.skip("public evaluation data not present beside the repository")
    hits = _near_duplicates(corpus_sentences, refs)
    assert not hits, f"{len(hits)} corpus sentences are near-duplicates of evaluation data"


def test_format_round_trips(sessions) -> None:  # type: ignore[no-untyped-def]
    from attunement.coding.corpus_format import format_session

    for s in sessions[:40]:
        back = parse_text(format_session(s), s.source)[0]
        assert [(t.role, t.text, t.codes, t.behaviour, t.empathy) for t in back.turns] == [
            (t.role, t.text, t.codes, t.behaviour, t.empathy) for t in s.turns
        ]
