"""Speaker labels inside lines: 'T:', 'Dr. Lee:', 'CLIENT 2 [00:12]:', 'Maria   0:03'.

Shared by the text, DOCX, VTT and SRT readers. A colon after a few words is also how
people write reported speech ("and she said: stop"), so a candidate label only counts
as a speaker when it is a known role word or recurs — see :func:`accepted_labels`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

#: timestamps written at the start of a line or next to a label
TS = r"\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
_LABEL_CHARS = r"[^\W\d_][\w.'’\-() ]{0,39}?"

_LEAD_TS = re.compile(rf"^(?:\[({TS})\]|\(({TS})\)|({TS})(?=\s|$))\s*(?:[-–—|]\s+)?")
_INLINE = re.compile(
    rf"^(?P<label>{_LABEL_CHARS})\s*(?:[\[(](?P<ts>{TS})[\])]\s*)?:(?![\d/])\s*(?P<text>.*)$"
)
_LABEL_ONLY = re.compile(_LABEL_CHARS.removesuffix("?"))
_HEADER = re.compile(rf"^(?P<label>{_LABEL_CHARS})\s+[\[(]?(?P<ts>{TS})[\])]?$")
_SPACES = re.compile(r"\s+")
_PAREN = re.compile(r"\([^)]*\)")
_MARKDOWN = re.compile(r"\*\*|__")

MAX_LABEL_WORDS = 4

#: label words that state a role outright (compared case-insensitively, without digits)
THERAPIST_WORDS = frozenset(
    {
        "t",
        "th",
        "therapist",
        "counselor",
        "counsellor",
        "clinician",
        "interviewer",
        "psychologist",
        "psychotherapist",
        "psychiatrist",
        "facilitator",
        "co-therapist",
        "cotherapist",
        "ther",
        "analyst",
        "doctor",
        "dr",
        "dr.",
    }
)
CLIENT_WORDS = frozenset({"c", "cl", "client", "patient", "p", "pt", "interviewee"})


@dataclass(frozen=True, slots=True)
class LabelLine:
    """A line split into an optional timestamp, a candidate label and the rest."""

    label: str | None
    timestamp: str | None
    text: str
    #: True for 'Name   0:03' lines whose text comes on the following lines
    header: bool = False


def split_line(line: str) -> LabelLine:
    """Split one stripped line. ``label`` is None when the line has no candidate label."""
    timestamp: str | None = None
    if line.startswith(("**", "__")):  # Markdown bold labels: '**Therapist:** …'
        line = _MARKDOWN.sub("", line[:80]) + line[80:]
    m = _LEAD_TS.match(line)
    if m:
        timestamp = m.group(1) or m.group(2) or m.group(3)
        line = line[m.end() :]
    if not line:
        return LabelLine(None, timestamp, "")
    if line[0].isalpha():
        m = _INLINE.match(line)
        if m and plausible(m.group("label")):
            return LabelLine(
                clean_label(m.group("label")), m.group("ts") or timestamp, m.group("text")
            )
        if timestamp is None:
            h = _HEADER.match(line)
            if h and plausible(h.group("label")):
                return LabelLine(clean_label(h.group("label")), h.group("ts"), "", header=True)
    return LabelLine(None, timestamp, line)


def inline_label(line: str) -> tuple[str, str] | None:
    """('Name', 'text') for a 'Name: text' line (as in Zoom/SRT cues), else None.

    Hot path for caption files (one call per cue), hence the plain string search and
    the cache over label strings instead of one regex per line.
    """
    if not line or not line[0].isalpha():
        return None
    colon = line.find(":", 1, 64)
    if colon < 0 or line[colon + 1 : colon + 2] in _NOT_AFTER_COLON:
        return None
    label = _checked_label(line[:colon])
    return (label, line[colon + 1 :].lstrip()) if label is not None else None


_NOT_AFTER_COLON = frozenset("0123456789/")


@lru_cache(maxsize=4096)
def _checked_label(candidate: str) -> str | None:
    if _LABEL_ONLY.fullmatch(candidate.rstrip()) is None or not plausible(candidate):
        return None
    return clean_label(candidate)


def clean_label(label: str) -> str:
    return _SPACES.sub(" ", label).strip()


@lru_cache(maxsize=4096)
def label_key(label: str) -> str:
    """Case- and spacing-insensitive identity of a label ('CLIENT 2' == 'Client 2')."""
    return _SPACES.sub(" ", label).strip().casefold()


def plausible(label: str) -> bool:
    """Short, and not a lower-case phrase ('and then she said')."""
    words = label.split()
    if not words or len(words) > MAX_LABEL_WORDS:
        return False
    return not (len(words) > 1 and words[0][0].islower())


def role_word(label: str) -> str | None:
    """'therapist' / 'client' when the label itself says so ('Client 2', 'Dr. Lee')."""
    key = _PAREN.sub(" ", label_key(label))
    words = key.replace("_", " ").split()
    if not words:
        return None
    bare = " ".join(w for w in words if not w.isdigit() and w not in {"#", "-"})
    if bare in THERAPIST_WORDS or words[0] in {"dr", "dr."}:
        return "therapist"
    if bare in CLIENT_WORDS:
        return "client"
    return None


def accepted_labels(counts: Counter[str], spellings: dict[str, str] | None = None) -> set[str]:
    """Label keys to treat as speakers.

    Accepted: role words, labels seen at least twice, and name-like labels ('Ben',
    'Dr. Lee', 'CLIENT 2' — every word capitalised) that are not header words such as
    'Note' or 'Date'. Reported speech ('He said: …') fails all three unless it recurs. If
    that leaves fewer than two speakers, every candidate is taken (a tiny transcript).
    """
    spellings = spellings or {}
    accepted = {
        k
        for k, n in counts.items()
        if k not in NOT_SPEAKERS
        and (n >= 2 or role_word(k) is not None or name_like(spellings.get(k, "")))
    }
    if len(accepted) < 2:
        accepted = set(counts)
    return accepted


def name_like(label: str) -> bool:
    """Every word starts with a capital or a digit: 'Ben', 'Dr. Lee', 'CLIENT 2'."""
    words = label.split()
    return bool(words) and all(w[0].isupper() or w[0].isdigit() for w in words)


#: words that end with a colon in headers and notes, not speakers
NOT_SPEAKERS = frozenset(
    {
        "note",
        "notes",
        "nb",
        "ps",
        "re",
        "subject",
        "date",
        "time",
        "duration",
        "session",
        "location",
        "transcript",
        "summary",
        "title",
        "topic",
        "participants",
        "attendees",
        "recording",
        "source",
        "edit",
        "update",
        "example",
        "warning",
        "kind",
        "language",
    }
)
