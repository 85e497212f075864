"""WebVTT captions as Zoom and Microsoft Teams export them.

::

    WEBVTT

    1
    00:00:01.200 --> 00:00:04.000
    Dr. Lee: How was your week?

    00:00:04.500 --> 00:00:06.000 align:start
    <v Maria>Honestly? Long.</v>

NOTE, STYLE and REGION blocks are skipped; cue settings after the times are ignored.
"""

from __future__ import annotations

import re
from typing import ClassVar

from attunement.io.base import Parsed, Reader, ReadOptions, Source
from attunement.io.cues import Block, CueSyntax, blocks, parse_cues, timing_index

_TS = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
SYNTAX = CueSyntax(
    timing=re.compile(rf"^\s*{_TS}\s+-->\s+{_TS}(?:\s+.*)?$"),
    example="00:01:02.500 --> 00:01:05.000",
)
_SKIPPED = re.compile(r"^(?:NOTE|STYLE|REGION)(?:\s|$)")
_STRICT_TIMING = re.compile(r"^\s*(?:\d+:)?\d{2}:\d{2}\.\d{3}\s+-->\s+(?:\d+:)?\d{2}:\d{2}\.\d{3}")


class VttReader(Reader):
    name: ClassVar[str] = "vtt"
    extensions: ClassVar[tuple[str, ...]] = ("vtt", "webvtt")

    def sniff(self, source: Source) -> float:
        text = source.try_text()
        if text is None:
            return 0.0
        if text.lstrip().startswith("WEBVTT"):
            return 1.0
        head = text[:4096].split("\n")
        if any(_STRICT_TIMING.match(line) for line in head):
            return 0.6
        return 0.0

    def read(self, source: Source, options: ReadOptions) -> Parsed:
        cue_blocks: list[Block] = []
        for i, block in enumerate(blocks(source)):
            first = block[0][1].lstrip()
            if i == 0 and first.startswith("WEBVTT"):
                continue  # header and its metadata lines
            if _SKIPPED.match(first):
                continue
            if i == 0 and timing_index(block) is None:
                continue  # a header without the WEBVTT word (tolerated)
            cue_blocks.append(block)
        return parse_cues(source, cue_blocks, SYNTAX)
