"""What the session review page shows, taken from the stored session JSON with the same
helpers the static reports use (:mod:`attunement.report.view`, the SVG timeline).

Open episodes come first (unresolved or not addressed), each with its evidence and the
suggested repair moves, then the other episodes, the coded moments, and the transcript.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from attunement.model import Session
from attunement.model.episode import Episode
from attunement.report.svg import timeline_svg
from attunement.report.view import (
    DISCLAIMER,
    MIN_PROBABILITY,
    cards,
    code_label,
    duration_text,
    group_evidence,
    moments,
    speakers_line,
)
from attunement.store.worker import OPEN_RESOLUTIONS

FAMILY_CLASS = {
    "withdrawal": "w",
    "confrontation": "c",
    "client_flag": "f",
    "empathy": "e",
    "resolution": "r",
    "failure": "x",
}


@dataclass(frozen=True)
class Turn:
    id: str
    at: str | None
    speaker: str
    role: str
    text: str
    codes: list[tuple[str, str]]  # (label, css class)


def _turns(session: Session) -> list[Turn]:
    from attunement.report.view import code_family

    out = []
    for u in session.utterances:
        codes = []
        for a in u.codes(MIN_PROBABILITY):
            label = code_label(a.code)
            if a.level:
                label = f"{label} ({a.level})"
            codes.append((label, FAMILY_CLASS.get(code_family(a.code), "o")))
        out.append(Turn(u.id, u.timestamp(), u.speaker, str(u.role), u.text, codes))
    return out


def _episode(ep: Episode) -> dict[str, Any]:
    return {
        "ep": ep,
        "open": ep.resolution in OPEN_RESOLUTIONS,
        "markers": group_evidence(ep.markers),
        "contribution": group_evidence(ep.contribution),
        "repairs": group_evidence(ep.repairs),
        "resolution": ep.resolution.replace("_", " "),
    }


def review(session_json: str) -> dict[str, Any]:
    """The review page's values (a fresh dict; what it holds is shared: read-only)."""
    from attunement.store.repo import CACHE_TEXT_MAX

    if len(session_json) > CACHE_TEXT_MAX:
        return _review(session_json)
    return dict(_review_cached(session_json))


def _review(session_json: str) -> dict[str, Any]:
    from attunement.store.repo import parse_analysis

    session = parse_analysis(session_json)
    episodes = [_episode(e) for e in session.episodes]
    episodes.sort(key=lambda e: (not e["open"], -e["ep"].salience))
    return {
        "episodes": episodes,
        "open_count": sum(e["open"] for e in episodes),
        "moments": moments(session),
        "cards": cards(session),
        "turns": _turns(session),
        "timeline": Markup(timeline_svg(session)),  # every text escaped in report.svg
        "duration": duration_text(session),
        "speakers": speakers_line(session),
        "warnings": session.warnings,
        "disclaimer": DISCLAIMER,
        # retention "codes_only": the words were removed (attunement.store.retention)
        "words_kept": "retention:codes_only" not in session.provenance,
    }


_review_cached = lru_cache(maxsize=32)(_review)
