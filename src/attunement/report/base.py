"""The writer interface, the writer registry and atomic file writes.

A writer turns a session into text (``render``) or streams it (``write``). Files are
written through :func:`write_file` (one file) or :func:`write_files` (a set, e.g. JSON,
HTML and FHIR of one run): the text goes to a temporary file in the target's folder, is
flushed to disk, then ``os.replace`` puts it in place, so a crash or a failed input never
leaves a half-written report that a clinician could mistake for a complete one.

Temporary files (see :mod:`attunement.report.tempfiles`): on Linux they are anonymous
(``O_TMPFILE``) while the text is written, so a ``kill -9`` mid-write leaves nothing;
elsewhere, and for the instant between linking and renaming, they are named
``.attunement-<host>-<pid>-<random>.tmp`` and the next write into that folder removes
ours whose writer process is gone. An existing output file that is read-only is refused,
and a replaced file keeps its permission bits.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
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


def style_policy(css: str) -> str:
    """The Content-Security-Policy of a self-contained report whose only active content is
    one inline ``<style>`` element holding exactly ``css``: nothing loads from anywhere,
    no script runs, no form posts, and only that stylesheet (by its SHA-256) applies."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"


def write_file(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (temporary file in the same folder,
    flushed, then ``os.replace``). The folder must exist; on any error nothing is left
    behind. A read-only existing file raises :class:`AttunementError` and is kept."""
    return write_files([(Path(path), text)])[0]


def write_files(items: Iterable[tuple[str | Path, str]]) -> list[Path]:
    """Write a set of files all or nothing, as far as a file system allows.

    Every text is first written to its own temporary file and flushed; only when all of
    them are ready are they put in place, one ``os.replace`` per file. A failure while
    writing (disk full, a read-only target, a missing folder) leaves no file of the set
    changed and no temporary file behind. The replace step itself is per file: should a
    rename fail after an earlier one succeeded (practically only on a failing disk), the
    files renamed before it are already the new ones.
    """
    from attunement.report.tempfiles import Staged, stage

    pairs = [(Path(p), text) for p, text in items]
    seen: set[Path] = set()
    for path, _ in pairs:
        key = path.resolve()
        if key in seen:
            raise AttunementError("two outputs of one run name the same file", where=str(path))
        seen.add(key)
    staged: list[Staged] = []
    try:
        for path, text in pairs:
            staged.append(stage(path, text))
        for s in staged:
            s.link()
        for s in staged:
            s.commit()
    finally:
        for s in staged:
            s.discard()
    return [p for p, _ in pairs]
