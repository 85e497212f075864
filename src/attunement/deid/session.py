"""De-identified copies of sessions, one client (group) at a time.

What comes out is the transcript only — speakers, roles, times and de-identified text.
Codes, metrics and episodes are left behind: their evidence quotes and notes were made
from the original words, so a shared corpus is analyzed again after de-identification.
The session's date and ids are dropped (the date is an identifier; ids may be names);
the order of sessions within a client is kept as ``session_number``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from attunement.deid.group import Replacement, replace_group
from attunement.deid.lexicon import gazetteers
from attunement.deid.placeholders import Pseudonyms
from attunement.model import Session, SessionMeta, Speaker, Utterance


@dataclass
class SessionReport:
    """What was replaced in one session (placeholders and places, never originals)."""

    replaced: Counter[str] = field(default_factory=Counter)
    replacements: list[dict[str, object]] = field(default_factory=list)


@dataclass
class GroupResult:
    sessions: list[Session]
    reports: list[SessionReport]
    #: placeholder → the original spellings it stands for (the re-identification key)
    key: dict[str, list[str]]
    placeholders: dict[str, int]


def deidentify_group(
    sessions: Sequence[Session], group: str, use_presidio: bool = False
) -> GroupResult:
    """De-identify the sessions of one client together, so placeholders agree."""
    labels = sorted({s.id for session in sessions for s in session.speakers})
    texts = [u.text for session in sessions for u in session.utterances]
    ps = Pseudonyms(gazetteers())
    new_texts, new_labels, done = replace_group(texts, labels, use_presidio, ps)
    # a speaker label keeps the placeholder without brackets ("PERSON_1", "Dr. PERSON_2"):
    # transcript readers take a leading "[" for a timestamp
    label_of: dict[str, str] = {}
    taken: set[str] = set()
    for lb, new in zip(labels, new_labels, strict=True):
        base = new.replace("[", "").replace("]", "")
        # distinct labels stay distinct speakers ("Liz" and "Elizabeth" may be a daughter
        # and her mother even where the talk's nickname rule joins them)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        label_of[lb] = name
    key: dict[str, set[str]] = {}
    all_texts = labels + texts
    for r in done:
        key.setdefault(r.placeholder, set()).add(all_texts[r.text_index][r.start : r.end])
    # replacements per text, to report positions in the de-identified text
    by_text: dict[int, list[Replacement]] = {}
    for r in done:
        by_text.setdefault(r.text_index, []).append(r)
    out_sessions: list[Session] = []
    reports: list[SessionReport] = []
    index = len(labels)
    for number, session in enumerate(sessions, start=1):
        report = SessionReport()
        for sp in session.speakers:
            for r in by_text.get(labels.index(sp.id), []):
                report.replaced[r.type] += 1
                report.replacements.append(
                    {"where": "speaker", "type": r.type, "placeholder": r.placeholder}
                )
        utterances = []
        for position, u in enumerate(session.utterances):
            uid = f"u{position + 1:04d}"  # ids from the input may hold words
            shift = 0
            for r in by_text.get(index, []):
                report.replaced[r.type] += 1
                start = r.start + shift
                report.replacements.append(
                    {
                        "where": uid,
                        "start": start,
                        "end": start + len(r.placeholder),
                        "type": r.type,
                        "placeholder": r.placeholder,
                        "found_by": r.source,
                    }
                )
                shift += len(r.placeholder) - (r.end - r.start)
            utterances.append(
                Utterance(
                    id=uid,
                    index=position,
                    speaker=label_of[u.speaker],
                    role=u.role,
                    text=new_texts[index - len(labels)],
                    start=u.start,
                    end=u.end,
                )
            )
            index += 1
        speakers: dict[str, Speaker] = {}
        for sp in session.speakers:
            new_id = label_of[sp.id]
            speakers.setdefault(
                new_id, Speaker(id=new_id, role=sp.role, role_confidence=sp.role_confidence)
            )
        out_sessions.append(
            Session(
                id=f"{group}-s{number:02d}",
                source=None,
                format="deid",
                meta=SessionMeta(
                    client_id=group, session_number=number, modality=session.meta.modality
                ),
                speakers=list(speakers.values()),
                utterances=utterances,
                provenance=["deid@1"],
            )
        )
        reports.append(report)
    return GroupResult(
        sessions=out_sessions,
        reports=reports,
        key={k: sorted(v) for k, v in key.items()},
        placeholders=ps.counts(),
    )
