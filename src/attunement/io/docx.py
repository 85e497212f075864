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
#: a DOCX whose parts declare more than this many times the byte limit once unpacked,
#: or more than MAX_UNPACKED bytes, is refused before python-docx reads it. python-docx
#: holds every part in memory and parses the XML into a tree ~15 times its size
#: (measured: 150 MB of document XML peaked at 2.3 GB), so the fixed cap keeps a DOCX
#: under ~1 GB; 64 MB of Word XML is some 10 MB of text, far beyond any session.
MAX_INFLATION = 4
MAX_UNPACKED = 64 * 1024 * 1024
#: ... as is one whose parts declare more than this many bytes per compressed byte
#: (deflate reaches ~1000:1 only on uniform filler; Word's XML stays far below 100:1)
MAX_RATIO = 200
#: parts counted toward the ratio check only above this size (tiny parts compress oddly)
_RATIO_FLOOR = 1 << 20
#: a DOCX has a few dozen parts; thousands mean a crafted archive
MAX_PARTS = 2000
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
        try:
            # python-docx walks the XML lazily: a damaged document fails here, not in _open
            lines = list(_lines(document))
        except Exception:  # AttributeError, lxml errors, ...: none is ours
            raise source.error("not a valid DOCX file (the Word document is damaged)") from None
        return parse_labelled_lines(lines, source)


def _open(source: Source, options: ReadOptions) -> Any:
    try:
        import docx
    except ImportError:  # pragma: no cover - python-docx is a core dependency
        raise DependencyError("reading DOCX needs python-docx: pip install python-docx") from None
    try:
        with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
            infos = archive.infolist()
    except Exception:  # BadZipFile, ValueError, OSError, EOFError, NotImplementedError, ...
        raise source.error("not a valid DOCX file (the ZIP container is damaged)") from None
    _check_sizes(infos, source, options.max_bytes)
    try:
        return docx.Document(io.BytesIO(source.data))
    except Exception:  # python-docx raises many types on damaged files; none is ours
        raise source.error("not a valid DOCX file (no readable Word document inside)") from None


def _check_sizes(infos: list[zipfile.ZipInfo], source: Source, max_bytes: int) -> None:
    """Refuse a zip bomb by the sizes its directory declares, before anything inflates.

    The declared sizes bound what :mod:`zipfile` will ever return (it stops at
    ``file_size`` and checks the CRC), so checking them is enough.
    """
    if len(infos) > MAX_PARTS:
        raise source.error(f"DOCX holds more than {MAX_PARTS} parts")
    inflated = sum(info.file_size for info in infos)
    cap = min(MAX_INFLATION * max_bytes, MAX_UNPACKED)
    if inflated > cap:
        raise source.error(
            f"DOCX content is too large once unpacked (over {cap / 1_048_576:.1f} MB)"
        )
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            raise source.error("DOCX content is compressed suspiciously far (a zip bomb?)")


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
