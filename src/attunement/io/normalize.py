"""Raw turns → a normalized :class:`~attunement.model.Session`.

Format-independent and done once: speaker labels unified (case and spacing), markup
stripped, whitespace collapsed, empty turns dropped, consecutive turns of one speaker
merged (start of the first, end of the last — this is what turns a run of caption cues
into one utterance), ids ``u0001``… assigned, and a content hash as the session id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from attunement.io.base import RawTurn, Source
from attunement.io.labels import label_key
from attunement.io.markup import collapse_space, strip_tags
from attunement.io.speakers import assign_roles
from attunement.model import Annotation, Session, Utterance, default_codebook
from attunement.model.limits import MAX_SPEAKER_CHARS, MAX_UTTERANCES

ID_LENGTH = 16


def build_session(
    turns: Sequence[RawTurn],
    source: Source,
    fmt: str,
    warnings: Sequence[str] = (),
    therapist: Sequence[str] | None = None,
    client: Sequence[str] | None = None,
) -> Session:
    """Clean, merge, assign roles and number the turns."""
    all_warnings = list(warnings)
    merged = merge_turns(clean_turns(turns, all_warnings))
    if not merged:
        raise source.error("no utterances with text found")
    if len(merged) > MAX_UTTERANCES:
        raise source.error(
            f"{len(merged):,} turns, over the {MAX_UTTERANCES:,} one session may have "
            "(a three-hour session has about 2,000); split the file into sessions"
        )
    _check_merged(merged, source, all_warnings)
    speakers, role_warnings = assign_roles(merged, source, therapist, client)
    all_warnings.extend(role_warnings)
    roles = {s.id: s.role for s in speakers}
    utterances = [
        Utterance(
            id=f"u{i + 1:04d}",
            index=i,
            speaker=t.speaker,
            role=roles[t.speaker],
            text=t.text,
            start=t.start,
            end=t.end,
            line=t.line,
            annotations=t.annotations,
        )
        for i, t in enumerate(merged)
    ]
    all_warnings.extend(_misplaced_codes(utterances))
    return Session(
        id=content_id(merged),
        source=source.name,
        format=fmt,
        speakers=speakers,
        utterances=utterances,
        warnings=all_warnings,
    )


def clean_turns(turns: Sequence[RawTurn], warnings: list[str]) -> list[RawTurn]:
    """Unify speaker spellings, strip markup, drop empty turns and impossible end times.

    The turns are updated in place (readers hand over fresh lists) and the kept ones
    returned.
    """
    names: dict[str, str] = {}
    cleaned: list[RawTurn] = []
    dropped_ends = 0
    for turn in turns:
        text = collapse_space(strip_tags(turn.text))
        speaker = collapse_space(turn.speaker)
        if not text or not speaker:
            continue
        turn.text = text
        turn.speaker = names.setdefault(label_key(speaker), speaker)
        if turn.end is not None and turn.start is not None and turn.end < turn.start:
            turn.end = None
            dropped_ends += 1
        cleaned.append(turn)
    if dropped_ends:
        warnings.append(f"{dropped_ends} turn(s) end before they start; those end times dropped")
    return cleaned


def _check_merged(merged: list[RawTurn], source: Source, warnings: list[str]) -> None:
    """What the session model would refuse, said in the reader's terms: a speaker label
    too long to be one, a merged turn whose last end lies before its first start."""
    dropped = 0
    for turn in merged:
        if len(turn.speaker) > MAX_SPEAKER_CHARS:
            raise source.error(
                f"speaker label is longer than {MAX_SPEAKER_CHARS} characters", line=turn.line
            )
        if turn.end is not None and turn.start is not None and turn.end < turn.start:
            turn.end = None
            dropped += 1
    if dropped:
        warnings.append(f"{dropped} merged turn(s) end before they start; those end times dropped")


def merge_turns(turns: Sequence[RawTurn]) -> list[RawTurn]:
    """Join consecutive turns of one speaker (the list is not modified).

    Texts are collected and joined once per merged turn, so a long run of one speaker's
    turns (or caption cues) costs linear, not quadratic, time.
    """
    merged: list[RawTurn] = []
    texts: list[list[str]] = []
    for turn in turns:
        last = merged[-1] if merged else None
        if last is None or last.speaker != turn.speaker:
            merged.append(
                RawTurn(
                    turn.speaker,
                    turn.text,
                    turn.start,
                    turn.end,
                    turn.line,
                    turn.role,
                    list(turn.annotations),
                )
            )
            texts.append([turn.text])
            continue
        texts[-1].append(turn.text)
        if last.start is None:
            last.start = turn.start
        if turn.end is not None:
            last.end = turn.end
        elif turn.start is not None and last.end is not None and turn.start > last.end:
            last.end = None  # the merged turn runs past the last known end
        if last.role is None:
            last.role = turn.role
        if turn.annotations:
            last.annotations.extend(_new(last.annotations, turn.annotations))
    for turn, parts in zip(merged, texts, strict=True):
        if len(parts) > 1:
            turn.text = " ".join(parts)
    return merged


def _misplaced_codes(utterances: Sequence[Utterance]) -> list[str]:
    """Human codes on the other role's utterance (a client marker on a therapist turn)
    usually mean the roles or the label columns are off; keep them, but say so."""
    cb = default_codebook()
    known = set(cb.ids())
    misplaced = [
        u
        for u in utterances
        for a in u.annotations
        if a.code in known and cb.get(a.code).role != u.role.value
    ]
    if not misplaced:
        return []
    first = misplaced[0]
    where = f"line {first.line}" if first.line is not None else first.id
    return [
        f"{len(misplaced)} human code(s) are on utterances of the other role (first at "
        f"{where}); check the speaker roles"
    ]


def _new(have: list[Annotation], more: list[Annotation]) -> list[Annotation]:
    seen = {(a.code, a.level) for a in have}
    return [a for a in more if (a.code, a.level) not in seen]


def content_id(turns: Sequence[RawTurn]) -> str:
    """A short stable hash of who said what when — same transcript, same id, whatever
    the file name, encoding or role options."""
    digest = hashlib.sha256()
    for t in turns:
        digest.update(f"{label_key(t.speaker)}\x1f{t.text}\x1f{t.start}\x1e".encode())
    return digest.hexdigest()[:ID_LENGTH]
