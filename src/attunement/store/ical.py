"""The iCal text (RFC 5545) of a therapist's calendar feed.

One VEVENT per appointment: the UID is stable per appointment, times are in UTC, and
cancelled appointments are kept as ``STATUS:CANCELLED`` so that a subscribed calendar
removes them. The SUMMARY names no client: "Session (Attunement #<client id>)", because
a phone calendar is not a clinical record. Lines end in CRLF and are folded at 75 octets;
TEXT values are escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attunement.store.schedule import AppointmentView


def ical_text(value: str) -> str:
    """Escape a TEXT value (backslash, semicolon, comma, line breaks); drop controls."""
    value = "".join(ch for ch in value if ch == "\n" or ch.isprintable())
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with a space), never inside
    a UTF-8 character."""
    if len(line.encode("utf-8")) <= 75:
        return line
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74
        current.append(ch)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def summary(client_id: int) -> str:
    return f"Session (Attunement #{client_id})"


def calendar(
    appointments: Iterable[AppointmentView],
    *,
    now: dt.datetime,
    clinic: str,
    host: str = "attunement",
) -> str:
    """The VCALENDAR text: one VEVENT per appointment, UID stable per appointment,
    times in UTC, cancelled ones marked so that calendars remove them."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Attunement//Clinic schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ical_text(clinic + ' sessions')}",
    ]
    for a in appointments:
        lines += [
            "BEGIN:VEVENT",
            f"UID:appointment-{a.id}@{host}",
            f"DTSTAMP:{_stamp(now)}",
            f"LAST-MODIFIED:{_stamp(a.status_at)}",
            f"DTSTART:{_stamp(a.starts_at)}",
            f"DTEND:{_stamp(a.ends_at)}",
            f"SUMMARY:{ical_text(summary(a.client_id))}",
            f"STATUS:{'CANCELLED' if a.cancelled else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
