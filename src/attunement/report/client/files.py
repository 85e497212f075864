"""Atomic file writes: a reader never sees a half-written report (one implementation,
shared with the session writers)."""

from __future__ import annotations

from pathlib import Path

from attunement.report.base import write_file


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``."""
    return write_file(path, text)
