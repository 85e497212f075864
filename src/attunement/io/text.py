"""Plain-text transcripts with speaker labels.

::

    [00:00:05] Therapist: How have things been since last week?
    Client: Not great, honestly.
    (laughs)
    Dr. Lee   0:42
    Say more about that.

A labelled line starts a turn; unlabelled lines continue the previous speaker's turn;
blank lines are ignored; lines before the first label (titles, dates) are skipped with a
warning. The same parser reads DOCX paragraphs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import ClassVar

from attunement.io.base import Parsed, RawTurn, Reader, ReadOptions, Source
from attunement.io.labels import LabelLine, accepted_labels, label_key, role_word, split_line
from attunement.io.times import parse_time

NO_LABELS = "no speaker labels found; expected lines like 'Therapist: …' or 'T: …'"
_SNIFF_LINES = 60


def parse_labelled_lines(lines: Iterable[tuple[int, str]], source: Source) -> Parsed:
    """Turns from ``(line number, line)`` pairs; the core of the text and DOCX readers."""
    split: list[tuple[int, LabelLine]] = []
    counts: Counter[str] = Counter()
    spellings: dict[str, str] = {}
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        parts = split_line(line)
        split.append((number, parts))
        if parts.label is not None:
            key = label_key(parts.label)
            counts[key] += 1
            spellings.setdefault(key, parts.label)
    if not counts:
        raise source.error(NO_LABELS)
    accepted = accepted_labels(counts, spellings)

    parsed = Parsed()
    names: dict[str, str] = {}
    skipped = 0
    # continuation lines are collected per turn and joined once (linear in the lines)
    texts: list[list[str]] = []
    for number, parts in split:
        if parts.label is not None and label_key(parts.label) in accepted:
            name = names.setdefault(label_key(parts.label), parts.label)
            start = parse_time(parts.timestamp) if parts.timestamp else None
            parsed.turns.append(RawTurn(speaker=name, text=parts.text, start=start, line=number))
            texts.append([parts.text] if parts.text else [])
            continue
        text = _unlabelled_text(parts)
        if not texts:
            skipped += 1
        elif text:
            texts[-1].append(text)
    for turn, lines_of_turn in zip(parsed.turns, texts, strict=True):
        if len(lines_of_turn) > 1 or (lines_of_turn and not turn.text):
            turn.text = "\n".join(lines_of_turn)
    if skipped:
        parsed.warnings.append(f"{skipped} line(s) before the first speaker label were skipped")
    return parsed


def _unlabelled_text(parts: LabelLine) -> str:
    """A continuation line's text; a rejected label is put back as written."""
    if parts.label is None:
        return parts.text
    if parts.header:
        return f"{parts.label} {parts.timestamp}"
    return f"{parts.label}: {parts.text}".rstrip()


def label_share(lines: Iterable[str]) -> float:
    """Share of non-blank lines that carry a plausible label, weighting role words up."""
    seen = labelled = 0
    roles = 0
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        seen += 1
        parts = split_line(line)
        if parts.label is not None:
            labelled += 1
            roles += role_word(parts.label) is not None
        if seen >= _SNIFF_LINES:
            break
    if not seen or not labelled:
        return 0.0
    return min(1.0, labelled / seen + (0.2 if roles else 0.0))


class TextReader(Reader):
    name: ClassVar[str] = "text"
    extensions: ClassVar[tuple[str, ...]] = ("txt", "text", "md")

    def sniff(self, source: Source) -> float:
        text = source.try_text()
        if text is None:
            return 0.0
        head = text[:16384].split("\n")
        # Below every structured format on their own files, above nothing.
        return 0.1 + 0.6 * label_share(head)

    def read(self, source: Source, options: ReadOptions) -> Parsed:
        return parse_labelled_lines(enumerate(source.lines, start=1), source)
