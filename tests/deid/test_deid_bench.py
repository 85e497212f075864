"""The de-identification evaluation sets are what docs/deid.md says, and the benchmark
runs on them (the figures themselves are in docs/benchmarks.md, made by the script)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("nicknames")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "benchmarks" / "data" / "deid"
TYPES = {
    "PERSON",
    "LOCATION",
    "ORGANIZATION",
    "DATE",
    "AGE",
    "PHONE",
    "EMAIL",
    "ADDRESS",
    "URL",
    "ID",
}


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "bench_deid", ROOT / "benchmarks" / "bench_deid.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_deid"] = module
    spec.loader.exec_module(module)
    return module


def test_the_held_out_set_has_at_least_300_identifiers_of_every_type() -> None:
    bench = _bench()
    counts: Counter[str] = Counter()
    for path in sorted(DATA.glob("test_*.jsonl")):
        for excerpts in bench.load([path]).values():
            for e in excerpts:
                for _, lgold, _, tgold in e["turns"]:
                    counts.update(kind for _, _, kind in lgold + tgold)
    assert set(counts) == TYPES
    assert sum(counts.values()) >= 300
    assert counts["PERSON"] >= 100


def test_marks_strip_back_to_plain_text() -> None:
    bench = _bench()
    text, gold = bench.strip_marks("I told [[PERSON:Ama]] about [[LOCATION:Kumasi]].")
    assert text == "I told Ama about Kumasi."
    assert [text[s:e] for s, e, _ in gold] == ["Ama", "Kumasi"]


def test_benchmark_runs_on_the_dev_set(tmp_path: Path) -> None:
    pytest.importorskip("presidio_analyzer")
    bench = _bench()
    out = tmp_path / "deid.json"
    assert bench.main(["--set", "dev", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    default = doc["runs"]["default"]
    # the dev set is what the rules were written against: a floor against regressions
    assert default["per_type"]["PERSON"]["recall"] >= 0.9
    assert default["all"]["precision"] >= 0.9
    assert doc["runs"]["presidio-only"]["per_type"]["PERSON"]["recall"] == 0.0
