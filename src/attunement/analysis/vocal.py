"""What the voice adds to the codes: the minimal response after a pause.

Withdrawal shows in how a client answers as much as in what they say: a study of
withdrawal ruptures found the minimal-response marker from pauses and speaker switches
alone (AUC .89). When a session comes from a recording (:mod:`attunement.audio` sets
``pause_before_s``), a client turn of at most :data:`MINIMAL_WORDS` words that follows a
therapist turn after at least :data:`PAUSE_S` seconds of silence is a ``W_MINIMAL``
candidate whatever the text model says: p = :data:`P_AFTER_INVITATION` after an
invitation (open question, reflection, exploration), :data:`P_OTHERWISE` after anything
else (a long pause before "No." to a closed question still says something). Transcripts
without times never trigger it.
"""

from __future__ import annotations

from attunement.analysis.lexicons import tokenize
from attunement.model import Utterance

PAUSE_S = 2.0
MINIMAL_WORDS = 4
P_AFTER_INVITATION = 0.7
P_OTHERWISE = 0.55
FEATURE = "pause_before_s"


def pause_of(u: Utterance) -> float | None:
    value = u.features.get(FEATURE)
    return float(value) if value is not None else None


def cue_text(u: Utterance, threshold: float = PAUSE_S) -> str | None:
    """'after a 3.1 s pause' for an utterance that followed a long silence."""
    pause = pause_of(u)
    if pause is None or pause < threshold:
        return None
    return f"after a {pause:.1f} s pause"


def minimal_after_pause(
    u: Utterance, prev: Utterance | None, invitation: str
) -> tuple[float, str] | None:
    """(probability, note) when ``u`` is a minimal answer after a long pause."""
    if prev is None or not prev.is_therapist or not u.is_client:
        return None
    pause = pause_of(u)
    if pause is None or pause < PAUSE_S:
        return None
    if len(tokenize(u.text)) > MINIMAL_WORDS:
        return None
    p = P_AFTER_INVITATION if invitation == "invite" else P_OTHERWISE
    return p, f"minimal answer after a {pause:.1f} s pause (vocal cue)"
