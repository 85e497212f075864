"""Batch tests: the example corpus fixture (the `ray` marker is declared in pyproject)."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_helpers import copy_examples


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder holding a copy of the example sessions, one of each format."""
    return copy_examples(tmp_path / "corpus")
