"""CSV and TSV transcripts: one row per turn under a header row.

::

    speaker,text,start,markers
    Therapist,What brings you in today?,0:05,
    Client,My sister made me come.,0:09,W_DEFERENTIAL

Columns are found by name (see :mod:`attunement.io.records`); the delimiter is a tab
for ``.tsv`` files, otherwise whichever of comma, tab or semicolon the header uses most.
"""

from __future__ import annotations

import csv
import io
from typing import ClassVar

from attunement.io.base import Parsed, Reader, ReadOptions, Source
from attunement.io.records import ALIASES, make_turn, plan_columns

_DELIMITERS = (",", "\t", ";")


def _delimiter(header: str, extension: str) -> str:
    if extension == "tsv":
        return "\t"
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class CsvReader(Reader):
    name: ClassVar[str] = "csv"
    extensions: ClassVar[tuple[str, ...]] = ("csv", "tsv", "tab")

    def sniff(self, source: Source) -> float:
        text = source.try_text()
        if text is None:
            return 0.0
        lines = [line for line in text[:8192].split("\n") if line.strip()][:6]
        if not lines:
            return 0.0
        delimiter = _delimiter(lines[0], source.extension)
        cells = {c.strip().strip('"').casefold() for c in lines[0].split(delimiter)}
        has_speaker = bool(cells & set(ALIASES["speaker"]))
        has_text = bool(cells & set(ALIASES["text"]))
        if len(cells) >= 2 and has_speaker and has_text:
            return 0.95
        if len(cells) >= 2 and (has_speaker or has_text):
            return 0.5
        width = lines[0].count(delimiter)
        if width and len(lines) >= 2 and all(line.count(delimiter) == width for line in lines):
            return 0.3
        return 0.0

    def read(self, source: Source, options: ReadOptions) -> Parsed:
        text = source.text
        first = next((line for line in text.split("\n", 50) if line.strip()), "")
        reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first, source.extension))
        parsed = Parsed()
        header: list[str] | None = None
        skipped = 0
        last_line = 0
        try:
            for row in reader:
                line = last_line + 1
                last_line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [cell.strip() for cell in row]
                    plan = plan_columns(header, options.columns, source)
                    continue
                if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
                    raise source.error(
                        f"row has {len(row)} cells but the header has {len(header)}", line=line
                    )
                values = dict(zip(header, row, strict=False))
                previous = parsed.turns[-1] if parsed.turns else None
                turn = make_turn(values, plan, previous, source, line)
                if turn is None:
                    skipped += 1
                else:
                    parsed.turns.append(turn)
        except csv.Error as exc:
            del exc
            raise source.error(
                "malformed CSV row (unbalanced quotes or a field over the size limit)",
                line=reader.line_num or None,
            ) from None
        if header is None:
            raise source.error("CSV has no header row")
        if not parsed.turns:
            raise source.error("CSV has a header but no rows with text")
        if skipped:
            parsed.warnings.append(f"{skipped} row(s) without text were skipped")
        return parsed
