"""The writer interface, the writer registry and atomic file writes.

A writer turns a session into text (``render``) or streams it (``write``). Files are
written through :func:`write_file`: a temporary file beside the target, then
``os.replace``, so a crash or a failed input never leaves a half-written report that a
clinician could mistake for a complete one.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar, TextIO

from attunement.errors import AttunementError
from attunement.model import Session

#: writer name → "module:Class"; modules load only when the writer is used
WRITERS: dict[str, str] = {
    "json": "attunement.report.json_:JsonWriter",
    "html": "attunement.report.html:HtmlWriter",
    "markdown": "attunement.report.markdown:MarkdownWriter",
    "terminal": "attunement.report.terminal:TerminalWriter",
}


class Writer(ABC):
    """Renders one session. Subclasses set ``name`` and ``suffix`` (file extension)."""

    name: ClassVar[str]
    suffix: ClassVar[str]

    @abstractmethod
    def render(self, session: Session) -> str:
        """The whole document as text."""

    def write(self, session: Session, fp: TextIO) -> None:
        """Stream the document to an open text file (default: render, then write)."""
        fp.write(self.render(session))


def get_writer(name: str, **options: object) -> Writer:
    """Instantiate the writer registered under ``name`` with keyword ``options``."""
    try:
        target = WRITERS[name]
    except KeyError:
        raise AttunementError(f"unknown writer {name!r}; known: {', '.join(WRITERS)}") from None
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    writer: Writer = cls(**options)
    return writer


def write_file(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: temp file in the same folder, then
    ``os.replace``. The folder must exist; on any error the temp file is removed."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
