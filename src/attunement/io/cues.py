"""Caption cues, shared by the WebVTT and SRT readers.

A cue is a block of lines separated from the next by a blank line: an optional id, a
timing line ``start --> end [settings]``, then payload lines. The speaker comes from a
voice tag (``<v Dr. Lee>`` — Teams) or a ``Name:`` prefix (Zoom, many SRT exports). A
cue without a speaker continues the previous speaker, which is also what merging does
with consecutive cues of one speaker.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from attunement.io.base import Parsed, RawTurn, Source
from attunement.io.labels import accepted_labels, clean_label, inline_label, label_key
from attunement.io.markup import caption_text
from attunement.io.times import MAX_SECONDS

_VOICE = re.compile(r"^\s*<v(?:\.[^\s>]*)?\s+([^>]{1,60})>(.*)$")
_LOOKS_TIMED = re.compile(r"^\s*\d[\d:.,]*\s*-+>?")

Block = list[tuple[int, str]]


@dataclass(frozen=True, slots=True)
class CueSyntax:
    """How one caption format writes its timing line (for parsing and for errors)."""

    #: groups: hours (optional), minutes, seconds, fraction — for start, then for end
    timing: re.Pattern[str]
    example: str


def blocks(source: Source) -> Iterator[Block]:
    """Blank-line separated blocks of (line number, line), numbers 1-based."""
    block: Block = []
    for number, line in enumerate(source.lines, start=1):
        if line.strip():
            block.append((number, line.rstrip()))
        elif block:
            yield block
            block = []
    if block:
        yield block


def timing_index(block: Block) -> int | None:
    """Index of the block's timing line (0, or 1 after a cue id), or None."""
    for i, (_, line) in enumerate(block[:2]):
        if "-->" in line or _LOOKS_TIMED.match(line):
            return i
    return None


def parse_cues(source: Source, cue_blocks: list[Block], syntax: CueSyntax) -> Parsed:
    """Turn cue blocks (each with a timing line) into raw turns."""
    parsed = Parsed()
    if not cue_blocks:
        raise source.error("no cues found")
    # one raw turn per payload line; speaker '' until labels are resolved below
    turns: list[RawTurn] = []
    for block in cue_blocks:
        _parse_cue(source, block, syntax, parsed.warnings, turns)
    counts: Counter[str] = Counter()
    spellings: dict[str, str] = {}
    for turn in turns:
        if turn.speaker:
            key = label_key(turn.speaker)
            counts[key] += 1
            spellings.setdefault(key, turn.speaker)
    if not counts:
        raise source.error("no speaker labels found; expected cues like '<v Name>…' or 'Name: …'")
    accepted = accepted_labels(counts, spellings)
    names: dict[str, str] = {}
    previous: str | None = None
    skipped = 0
    for turn in turns:
        if turn.speaker:
            key = label_key(turn.speaker)
            if key in accepted:
                previous = names.setdefault(key, turn.speaker)
            else:  # a rejected label is text, as written
                turn.text = f"{turn.speaker}: {turn.text}"
        if previous is None:
            skipped += 1
            continue
        turn.speaker = previous
        parsed.turns.append(turn)
    if skipped:
        parsed.warnings.append(f"{skipped} caption line(s) before the first speaker were skipped")
    return parsed


def _parse_cue(
    source: Source, block: Block, syntax: CueSyntax, warnings: list[str], out: list[RawTurn]
) -> None:
    """Append one raw turn per payload line of the cue in ``block`` to ``out``."""
    index = timing_index(block)
    if index is None:
        raise source.error(
            f"cue has no timing line (expected '{syntax.example}')", line=block[0][0]
        )
    number, timing = block[index]
    m = syntax.timing.match(timing)
    if m is None:
        raise source.error(f"malformed cue timing (expected '{syntax.example}')", line=number)
    groups = m.groups()
    start, end = _seconds(groups[:4]), _seconds(groups[4:8])
    if start is None or end is None:
        raise source.error(f"cue time out of range (expected '{syntax.example}')", line=number)
    if end < start:
        warnings.append(f"line {number}: cue ends before it starts; its end time was dropped")
        end = None
    for payload_number, line in block[index + 1 :]:
        speaker, text = _speaker_of(line)
        out.append(RawTurn(speaker or "", text, start, end, payload_number))


def _seconds(parts: tuple[str | None, ...]) -> float | None:
    """Seconds from regex groups (hours or None, minutes, seconds, fraction)."""
    hours, minutes, seconds, fraction = parts
    if minutes is None or seconds is None or fraction is None:
        return None
    m, s = int(minutes), int(seconds)
    if s >= 60 or (hours is not None and m >= 60):
        return None
    total = int(hours or 0) * 3600 + m * 60 + s + int(fraction) / 10 ** len(fraction)
    return total if total <= MAX_SECONDS else None


def _speaker_of(line: str) -> tuple[str | None, str]:
    """(speaker or None, plain text) of one payload line."""
    if "<v" in line:
        m = _VOICE.match(line)
        if m:
            return clean_label(m.group(1)), caption_text(m.group(2))
    plain = caption_text(line).strip()
    found = inline_label(plain)
    if found is not None:
        return found
    return None, plain
