"""docs/benchmarks.md tables are generated from the benchmarks' JSON: never stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _render_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "render_docs", REPO / "benchmarks" / "render_docs.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_tables_match_the_results_files() -> None:
    mod = _render_module()
    text = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert mod.render(text) == text, "run: python benchmarks/render_docs.py"


def test_every_results_file_has_a_block_in_the_docs() -> None:
    mod = _render_module()
    text = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for name, (file, _) in mod.RENDERERS.items():
        if (REPO / "benchmarks" / "results" / file).exists():
            assert f"<!-- generated:{name} -->" in text, name
