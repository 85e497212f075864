"""A session as a labelled-lines transcript (``[hh:mm:ss] Speaker: text``) that every
`attune` reader reads back — for de-identified copies and transcribed recordings."""

from __future__ import annotations

from attunement.model import Session


def as_text(session: Session) -> str:
    """A labelled-lines transcript (``[hh:mm:ss] Speaker: text``) that `attune` reads."""
    lines = []
    for u in session.utterances:
        stamp = ""
        if u.start is not None:
            t = int(u.start)
            stamp = f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] "
        text = u.text.replace("\n", "\n    ")
        lines.append(f"{stamp}{u.speaker}: {text}")
    return "\n".join(lines) + "\n"
