"""docs/batch.md documents every column of every table and every `attune batch` option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

from attunement.batch.tables import schemas
from attunement.cli.main import build_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "batch.md"


def test_every_column_is_documented_and_described_in_the_schema() -> None:
    text = DOC.read_text(encoding="utf-8")
    for level, sch in schemas(text=True).items():
        assert f"### `{level}/`" in text
        section = text.split(f"### `{level}/`", 1)[1].split("\n### ", 1)[0]
        for f in sch:
            assert f"`{f.name}`" in section, (level, f.name)
            assert f.metadata and f.metadata[b"description"], (level, f.name)


def test_every_option_is_documented() -> None:
    import typer.main

    command = typer.main.get_command(build_app())
    batch = command.commands["batch"]  # type: ignore[attr-defined]
    text = DOC.read_text(encoding="utf-8")
    options = [o for p in batch.params for o in p.opts if o.startswith("--") and o != "--help"]
    assert len(options) >= 15
    for opt in options:
        assert re.search(rf"`{re.escape(opt)}\b", text), opt
