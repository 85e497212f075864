"""Word documents: paragraphs read like the text format, plus transcript tables.

Handles both a typed transcript ("Therapist: …" paragraphs) and the Teams/Zoom
"transcript" style where a speaker line with a time (``Dr. Lee   0:03``) is followed by
the text paragraph(s). Tables with rows of (speaker, text) or (time, speaker, text) are
read row by row. Line numbers in errors count paragraphs and table rows.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any, ClassVar

from attunement.errors import DependencyError
from attunement.io.base import Parsed, Reader, ReadOptions, Source
from attunement.io.labels import TS
from attunement.io.text import parse_labelled_lines

_MAIN_PART = "word/document.xml"
#: a DOCX whose XML inflates beyond this many times the size limit is refused
_MAX_INFLATION = 20
_TIME_CELL = re.compile(TS)


class DocxReader(Reader):
    name: ClassVar[str] = "docx"
    extensions: ClassVar[tuple[str, ...]] = ("docx",)

    def sniff(self, source: Source) -> float:
        if not source.data.startswith(b"PK\x03\x04"):
            return 0.0
        return 1.0 if _MAIN_PART.encode() in source.data[:65536] else 0.5

    def read(self, source: Source, options: ReadOptions) -> Parsed:
        document = _open(source, options)
        return parse_labelled_lines(_lines(document), source)


def _open(source: Source, options: ReadOptions) -> Any:
    try:
        import docx
    except ImportError:  # pragma: no cover - python-docx is a core dependency
        raise DependencyError("reading DOCX needs python-docx: pip install python-docx") from None
    try:
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
        raise source.error("not a valid DOCX file (the ZIP container is damaged)") from None
    if inflated > _MAX_INFLATION * options.max_bytes:
        raise source.error("DOCX content is too large once unpacked")
    try:
        return docx.Document(io.BytesIO(source.data))
    except Exception:  # python-docx raises many types on damaged files; none is ours
        raise source.error("not a valid DOCX file (no readable Word document inside)") from None


def _lines(document: Any) -> Iterator[tuple[int, str]]:
    """(paragraph/row number, text) for body paragraphs, then table rows."""
    number = 0
    for paragraph in document.paragraphs:
        for line in str(paragraph.text).split("\n"):
            number += 1
            yield number, line
    for table in document.tables:
        for row in table.rows:
            number += 1
            cells = [str(cell.text).strip() for cell in row.cells]
            yield number, _row_line(cells)


def _row_line(cells: list[str]) -> str:
    """'speaker: text' or '[time] speaker: text' from a table row; '' otherwise."""
    cells = [c for c in cells if c]
    if len(cells) == 2 and not _TIME_CELL.fullmatch(cells[0]):
        return f"{cells[0]}: {cells[1]}"
    if len(cells) >= 3 and _TIME_CELL.fullmatch(cells[0]):
        return f"[{cells[0]}] {cells[1]}: {' '.join(cells[2:])}"
    return " ".join(cells)
