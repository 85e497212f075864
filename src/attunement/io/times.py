"""Time values in transcripts: 'HH:MM:SS(.mmm)', 'MM:SS', or plain seconds."""

from __future__ import annotations

import math
import re

_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,6}))?$")
_NUMBER = re.compile(r"^\d+(?:\.\d*)?$|^\.\d+$")
#: longest session we believe: a week, in seconds; guards against garbage numbers
MAX_SECONDS = 7 * 24 * 3600.0


def parse_time(value: str | float | int) -> float | None:
    """Seconds from a clock string or a number; None when it is not a valid time.

    A bare number is seconds. 'M:SS' / 'MM:SS' is minutes and seconds; with three parts,
    hours come first. Fractions may use '.' or ',' (SRT).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        if not text:
            return None
        m = _CLOCK.match(text)
        if m:
            hours = int(m.group(1) or 0)
            minutes, secs = int(m.group(2)), int(m.group(3))
            if secs >= 60 or (m.group(1) is not None and minutes >= 60):
                return None
            frac = float("0." + m.group(4)) if m.group(4) else 0.0
            seconds = hours * 3600 + minutes * 60 + secs + frac
        elif _NUMBER.match(text):
            seconds = float(text)
        else:
            return None
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_SECONDS:
        return None
    return seconds
