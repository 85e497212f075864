"""Who is the therapist? Role assignment for the speakers of one session.

Order of evidence, strongest first: names the user passed (``therapist=`` /
``client=``), a role the file states (CSV ``role`` column), the label itself
('Therapist', 'T', 'Dr. Lee', 'Client 2'), and last a scored heuristic over what each
speaker says. Exactly the speakers found to be therapists are therapists; everyone else
is a client, so couples, family and group sessions keep every participant. The
heuristic picks one therapist; its confidence is stored in ``Speaker.role_confidence``
and, when low, reported in ``session.warnings`` so the clinician can correct it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from attunement.io.base import RawTurn, Source
from attunement.io.labels import role_word
from attunement.model import Role, Speaker

UNSURE = 0.75
LABEL_CONFIDENCE = 0.95
#: confidence that the remaining speakers are clients once the therapist is known by label
REST_CONFIDENCE = 0.9
#: the heuristic never claims to be as sure as an explicit label
HEURISTIC_MAX = 0.9

_THERAPIST_PHRASES = re.compile(
    r"\b(?:how (?:does|did|do|would) (?:that|it|this) (?:feel|make you feel)|how do you feel"
    r"|how are you feeling|it sounds like|sounds like you|what i'?m hearing|tell me (?:more|about)"
    r"|say more|can you say|what (?:was|is) that like|what brings you|i hear (?:you|that)"
    r"|what comes up|last (?:week|session|time we)|our (?:session|work|time)|let'?s"
    r"|would you be willing|you (?:said|mentioned)|i'?m wondering|i am wondering"
    r"|help me understand|what do you make of|what do you notice)\b"
)
_CLIENT_PHRASES = re.compile(
    r"\b(?:i (?:feel|felt|don'?t know|guess|just|can'?t|was)|my (?:mom|mother|dad|father|wife"
    r"|husband|partner|boss|kids|son|daughter|sister|brother|family|job|friend))\b"
)


@dataclass(slots=True)
class _Stats:
    turns: int = 0
    questions: int = 0
    therapist_phrases: int = 0
    client_phrases: int = 0
    words: int = 0


def assign_roles(
    turns: Sequence[RawTurn],
    source: Source,
    therapist: Sequence[str] | None = None,
    client: Sequence[str] | None = None,
) -> tuple[list[Speaker], list[str]]:
    """Speakers (in order of first appearance) with roles, plus warnings."""
    order = list(dict.fromkeys(t.speaker for t in turns))
    if len(order) < 2:
        raise source.error(
            f"only {len(order)} speaker found; a session needs a therapist and a client"
        )
    by_key = {name.casefold(): name for name in order}
    fixed: dict[str, tuple[Role, float]] = {}
    named_t = match_names(therapist, "therapist", by_key, order, source)
    named_c = match_names(client, "client", by_key, order, source)
    for name in named_t & named_c:
        # labels are often names: the speaker is named by position, never by label
        raise source.error(
            f"speaker {order.index(name) + 1} (in order of appearance) is named as both "
            "therapist and client"
        )
    fixed.update({n: (Role.THERAPIST, 1.0) for n in named_t})
    fixed.update({n: (Role.CLIENT, 1.0) for n in named_c})
    _file_roles(turns, fixed, source)

    if named_t:
        rest: tuple[Role, float] | None = (Role.CLIENT, 1.0)
    else:
        rest = None
        for name in order:
            word = role_word(name)
            if name not in fixed and word is not None:
                fixed[name] = (Role(word), LABEL_CONFIDENCE)
        if any(role is Role.THERAPIST for role, _ in fixed.values()):
            rest = (Role.CLIENT, REST_CONFIDENCE)
    warnings: list[str] = []
    unknown = [n for n in order if n not in fixed]
    if unknown and rest is not None:
        fixed.update({n: rest for n in unknown})
    elif unknown:
        chosen, confidence = _pick_therapist(turns, order, unknown)
        for name in unknown:
            fixed[name] = (Role.THERAPIST if name == chosen else Role.CLIENT, confidence)
        if confidence < UNSURE:
            warnings.append(
                f"speaker roles inferred: {chosen!r} as therapist (confidence "
                f"{confidence:.2f}); pass --therapist to set"
            )
    speakers = [Speaker(id=n, role=fixed[n][0], role_confidence=fixed[n][1]) for n in order]
    for role, flag in ((Role.THERAPIST, "therapist"), (Role.CLIENT, "client")):
        if not any(s.role is role for s in speakers):
            raise source.error(f"no speaker is a {flag}; pass --{flag} to name one")
    return speakers, warnings


def match_names(
    names: Sequence[str] | None,
    flag: str,
    by_key: dict[str, str],
    order: list[str],
    source: Source,
) -> set[str]:
    found: set[str] = set()
    for name in names or ():
        match = by_key.get(" ".join(name.split()).casefold())
        if match is None:
            # neither the name given nor the file's labels are quoted: both may be names
            raise source.error(
                f"a --{flag} name does not appear in the transcript "
                f"({len(order)} speaker label(s) found; compare them with the file)"
            )
        found.add(match)
    return found


def _file_roles(
    turns: Sequence[RawTurn], fixed: dict[str, tuple[Role, float]], source: Source
) -> None:
    """Roles stated in the file; conflicts with each other are errors, with the user's
    names are resolved in the user's favour."""
    stated: dict[str, Role] = {}
    for turn in turns:
        if turn.role is None:
            continue
        seen = stated.setdefault(turn.speaker, turn.role)
        if seen is not turn.role:
            raise source.error("a speaker has two different roles in the file", line=turn.line)
    for name, role in stated.items():
        fixed.setdefault(name, (role, 1.0))


def _pick_therapist(
    turns: Sequence[RawTurn], order: list[str], candidates: list[str]
) -> tuple[str, float]:
    """The candidate who talks most like a therapist, and how sure we are (0.5..0.9)."""
    stats = {name: _Stats() for name in order}
    for turn in turns:
        s = stats[turn.speaker]
        text = turn.text.casefold()
        s.turns += 1
        s.questions += "?" in text
        s.therapist_phrases += _THERAPIST_PHRASES.search(text) is not None
        s.client_phrases += _CLIENT_PHRASES.search(text) is not None
        s.words += len(text.split())
    total_words = sum(s.words for s in stats.values()) or 1

    def score(name: str) -> float:
        s = stats[name]
        n = max(s.turns, 1)
        return (
            0.4 * s.questions / n
            + 0.35 * min(1.0, 2 * s.therapist_phrases / n)
            - 0.2 * min(1.0, 2 * s.client_phrases / n)
            + 0.1 * (name == order[0])
            + 0.15 * (1 - s.words / total_words)
        )

    ranked = sorted(candidates, key=score, reverse=True)
    if len(ranked) == 1:
        # forced: a session needs a therapist and nobody else can be one
        return ranked[0], REST_CONFIDENCE
    margin = score(ranked[0]) - score(ranked[1])
    return ranked[0], round(min(HEURISTIC_MAX, max(0.5, 0.5 + margin)), 2)
