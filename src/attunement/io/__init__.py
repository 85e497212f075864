"""Transcript readers: a file (or bytes) in, a normalized :class:`~attunement.model.Session`
out.

Formats: plain text with speaker labels, WebVTT (Zoom, Teams), SRT, DOCX, the project's
session JSON (and simple utterance lists), CSV/TSV. See ``docs/formats.md``.
"""

from attunement.io.base import DEFAULT_MAX_BYTES, Parsed, RawTurn, Reader, ReadOptions, Source
from attunement.io.read import detect_format, read_session, read_session_bytes, read_sessions
from attunement.io.registry import READERS

__all__ = [
    "DEFAULT_MAX_BYTES",
    "READERS",
    "Parsed",
    "RawTurn",
    "ReadOptions",
    "Reader",
    "Source",
    "detect_format",
    "read_session",
    "read_session_bytes",
    "read_sessions",
]
