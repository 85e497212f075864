"""The reader interface: one small protocol every format implements.

A reader turns a :class:`Source` (raw bytes plus the file's base name) into a
:class:`Parsed` — a flat list of :class:`RawTurn` s with the speaker labels exactly as
written. Everything format-independent (role assignment, merging, markup stripping, ids)
happens once, in :mod:`attunement.io.normalize` and :mod:`attunement.io.speakers`, so a
new format only has to answer two questions: "is this mine?" (:meth:`Reader.sniff`) and
"what turns does it hold?" (:meth:`Reader.read`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePath
from typing import ClassVar

from attunement.errors import TranscriptError
from attunement.io.decode import decode_bytes
from attunement.model import Annotation, Role, Session

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(slots=True)
class RawTurn:
    """One labelled stretch of speech as the file has it (before merging)."""

    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    line: int | None = None
    #: a role the file itself states (e.g. a CSV ``role`` column); None when unknown
    role: Role | None = None
    annotations: list[Annotation] = field(default_factory=list)


@dataclass(slots=True)
class Parsed:
    """What a reader found: raw turns and warnings, or an already complete session
    (the project's own JSON, which must round-trip untouched)."""

    turns: list[RawTurn] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    session: Session | None = None


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Format options a caller may pass through :func:`attunement.io.read_session`."""

    #: logical column name ('speaker', 'text', 'start', 'end', 'time', 'role') → header
    columns: Mapping[str, str] | None = None
    max_bytes: int = DEFAULT_MAX_BYTES


class Source:
    """The bytes of one transcript and its base name; text is decoded once, on demand.

    Only the base name is kept so that a full path (which may contain a client's name)
    never reaches a session, an error message or a log.
    """

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = PurePath(name).name or "<input>"
        #: what ``line`` numbers in errors count ('line'; 'utterance' for JSON records)
        self.line_unit = "line"

    @property
    def extension(self) -> str:
        """Lower-case extension without the dot ('vtt'), or '' when there is none."""
        suffix = PurePath(self.name).suffix
        return suffix[1:].lower() if suffix else ""

    @cached_property
    def text(self) -> str:
        """Decoded text with normalized newlines; raises :class:`TranscriptError`."""
        return decode_bytes(self.data, self.name)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def try_text(self) -> str | None:
        """The decoded text, or None when the bytes are not text (for sniffing)."""
        try:
            return self.text
        except TranscriptError:
            return None

    def error(self, message: str, line: int | None = None) -> TranscriptError:
        """An error naming this file (and line) — callers must not put content in it."""
        where = f"{self.name}, {self.line_unit} {line}" if line is not None else self.name
        return TranscriptError(message, where=where)


class Reader(ABC):
    """One transcript format."""

    #: short format name, used for ``fmt=`` and stored in ``Session.format``
    name: ClassVar[str]
    #: file extensions (lower case, no dot) that suggest this format
    extensions: ClassVar[tuple[str, ...]]

    @abstractmethod
    def sniff(self, source: Source) -> float:
        """Confidence 0..1 that ``source`` is in this format, judged from content only.

        Never raises: unreadable input simply scores 0.
        """

    @abstractmethod
    def read(self, source: Source, options: ReadOptions) -> Parsed:
        """Parse ``source``; raise :class:`TranscriptError` (naming file and line) on bad
        input."""
