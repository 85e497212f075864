"""Which reader? Content first, extension second.

Every reader scores the content (0..1). A matching extension adds a small bonus, enough
to break ties and to pick e.g. CSV for a headerless-looking ``.csv``, never enough to
override clear content (a WebVTT file saved as ``.txt`` is read as WebVTT). When nothing
scores, the extension decides; failing that, the plain-text reader, whose error then
explains what a transcript should look like.
"""

from __future__ import annotations

import logging

from attunement.errors import TranscriptError
from attunement.io.base import Reader, Source
from attunement.io.registry import READERS

log = logging.getLogger(__name__)

EXTENSION_BONUS = 0.15
MIN_CONTENT_SCORE = 0.2


def reader_for(source: Source, fmt: str | None = None) -> Reader:
    """The reader for ``source``: the one named by ``fmt``, else the detected one."""
    if fmt is not None:
        reader = READERS.get(fmt.strip().lower().lstrip("."))
        if reader is None:
            reader = next(
                (r for r in READERS.values() if fmt.strip().lower() in r.extensions), None
            )
        if reader is None:
            raise TranscriptError(
                f"unknown format {fmt[:20]!r} (known: {', '.join(READERS)})", where=source.name
            )
        return reader
    docx = READERS["docx"]
    if docx.sniff(source) > 0:
        return docx
    source.text  # noqa: B018 - decode now so encoding errors are reported as such
    scores = {
        name: r.sniff(source) + (EXTENSION_BONUS if source.extension in r.extensions else 0.0)
        for name, r in READERS.items()
    }
    best = max(scores, key=lambda n: scores[n])
    log.debug("format scores for %s: %s", source.name, scores)
    if scores[best] >= MIN_CONTENT_SCORE:
        return READERS[best]
    return READERS["text"]
