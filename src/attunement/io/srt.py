"""SubRip (SRT) captions: numbered cues, comma milliseconds, optional 'Name:' prefix.

::

    1
    00:00:01,000 --> 00:00:04,000
    Therapist: What would you like to focus on today?
"""

from __future__ import annotations

import re
from typing import ClassVar

from attunement.io.base import Parsed, Reader, ReadOptions, Source
from attunement.io.cues import CueSyntax, blocks, parse_cues

_TS = r"(\d{1,3}):(\d{1,2}):(\d{2})[,.](\d{1,3})"
SYNTAX = CueSyntax(
    timing=re.compile(rf"^\s*{_TS}\s*-->\s*{_TS}(?:\s+.*)?$"),
    example="00:01:02,500 --> 00:01:05,000",
)
_STRICT_TIMING = re.compile(r"^\s*\d{2}:\d{2}:\d{2},\d{3}\s+-->\s+\d{2}:\d{2}:\d{2},\d{3}")


class SrtReader(Reader):
    name: ClassVar[str] = "srt"
    extensions: ClassVar[tuple[str, ...]] = ("srt",)

    def sniff(self, source: Source) -> float:
        text = source.try_text()
        if text is None:
            return 0.0
        lines = [line for line in text[:4096].split("\n") if line.strip()][:3]
        if len(lines) >= 2 and lines[0].strip().isdigit() and _STRICT_TIMING.match(lines[1]):
            return 0.95
        if any(_STRICT_TIMING.match(line) for line in text[:4096].split("\n")):
            return 0.6
        return 0.0

    def read(self, source: Source, options: ReadOptions) -> Parsed:
        return parse_cues(source, list(blocks(source)), SYNTAX)
