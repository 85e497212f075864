"""Helpers of the batch tests: the example corpus, generated transcripts, a CLI runner."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from attunement.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "attunement" / "examples" / "sessions"
#: one file per reader: text, srt, vtt, csv, json
EXAMPLE_FILES = (
    "cheerful-goodbye.txt",
    "cbt-sleep.srt",
    "family-curfew.vtt",
    "couples-evenings.csv",
    "mi-drinking.json",
)


def copy_examples(folder: Path) -> Path:
    """A copy of the example sessions, one of each format, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_FILES:
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


_CLIENT = (
    "I felt tired after work again.",
    "My sister called and I did not pick up.",
    "I guess it does not matter.",
    "Yeah.",
    "We argued about the holidays and I went quiet.",
    "I tried the sleep diary but it did not help much.",
)
_THERAPIST = (
    "What was that like for you?",
    "It sounds like the week left you worn out.",
    "Tell me more about the call.",
    "Mm-hm.",
    "Could we look at the diary together?",
    "You went quiet, and nobody noticed.",
)


def write_transcript(path: Path, turns: int, seed: int) -> Path:
    """An invented ``Therapist:/Client:`` transcript (no real session content)."""
    rng = random.Random(seed)
    lines = []
    for i in range(turns):
        who, pool = ("Therapist", _THERAPIST) if i % 2 == 0 else ("Client", _CLIENT)
        lines.append(f"{who}: {rng.choice(pool)} {rng.choice(pool)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``attune ARGS`` in this process; (exit code, stderr)."""
    capsys.readouterr()
    code = main(args)
    return code, capsys.readouterr().err


def manifest(out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return doc
