"""Atomic file writes: a reader never sees a half-written report (one implementation,
shared with the session writers), and a set of outputs is written all or nothing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from attunement.report.base import write_file, write_files


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    return write_file(path, text)


def atomic_write_set(items: Iterable[tuple[Path, str]]) -> list[Path]:
    """Write several rendered files: all temporary files first, then one rename each (see
    :func:`attunement.report.base.write_files`); on a failure no new file is left."""
    return write_files(items)
