"""De-identifying the texts of one client together.

Two passes: the first finds names with what each utterance shows; every name word found
(and every speaker label that is a name) becomes *known* for the client, and the second
pass finds those words again wherever they occur — at the start of a sentence, in lower
case, in a session that never capitalised them. Placeholders are handed out after both
passes, so the same person gets the same one in every session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from attunement.deid.engine import find
from attunement.deid.lexicon import gazetteers, lists
from attunement.deid.names import _stop, cues, stopped
from attunement.deid.patterns import Span
from attunement.deid.placeholders import Pseudonyms
from attunement.io.labels import role_word

_LABEL_WORD = re.compile(r"[^\W\d_][\w'’.-]*")


@dataclass(frozen=True, slots=True)
class Replacement:
    """One replaced identifier: where it was and what stands there now (never the
    original text)."""

    text_index: int
    start: int
    end: int
    type: str
    placeholder: str
    source: str


def label_span(label: str) -> Span | None:
    """The name in a speaker label ('Dana', 'Dr. Okafor', 'Client (Rowan)', "Dana's
    partner" → 'Dana'), or None for role labels ('Therapist', 'Client 2', 'Partner B').

    Only name words count: role words, titles, relations, single letters and brackets
    stay, so "Ruth (T)" gives "Ruth" and "partner" never becomes a known name."""
    lx = lists()
    skip = set(lx.person_cues.titles) | set(lx.person_cues.relations) | _stop()
    words = []
    for m in _LABEL_WORD.finditer(label):
        w = m.group().lower().rstrip(".").replace("’", "'")
        w = w[:-2] if w.endswith("'s") else w
        if len(w) < 2 or w in skip or role_word(w) is not None:
            continue
        words.append(m)
    if not words:
        return None
    end = words[-1].end()
    if label[:end].lower().replace("’", "'").endswith("'s"):
        end -= 2
    return Span(words[0].start(), end, "PERSON", 1.0, "speaker-label")


def _words(text: str, spans: Sequence[Span]) -> set[str]:
    titles = set(lists().person_cues.titles)
    out: set[str] = set()
    for s in spans:
        if s.type != "PERSON":
            continue
        for w in text[s.start : s.end].lower().replace("’", "'").split():
            w = w.strip(".,")
            w = w[:-2] if w.endswith("'s") else w
            if len(w) >= 2 and w not in titles and w not in cues().particles and not stopped(w):
                out.add(w)
    return out


def find_group(
    texts: Sequence[str], labels: Sequence[str] = (), use_presidio: bool = False
) -> tuple[list[list[Span]], list[Span | None]]:
    """Spans for every text of one client, and the name span of each speaker label."""
    label_spans = [label_span(lb) for lb in labels]
    known: set[str] = set()
    for lb, sp in zip(labels, label_spans, strict=True):
        if sp is not None:
            known |= _words(lb, [sp])
    first = [find(t, frozenset(known), use_presidio) for t in texts]
    for t, spans in zip(texts, first, strict=True):
        known |= _words(t, spans)
    frozen = frozenset(known)
    return [find(t, frozen, use_presidio) for t in texts], label_spans


def replace_group(
    texts: Sequence[str],
    labels: Sequence[str] = (),
    use_presidio: bool = False,
    pseudonyms: Pseudonyms | None = None,
) -> tuple[list[str], list[str], list[Replacement]]:
    """De-identified texts and labels of one client, and what was replaced. Replacement
    ``text_index`` counts labels first (0..len(labels)-1), then texts."""
    spans, label_spans = find_group(texts, labels, use_presidio)
    ps = pseudonyms or Pseudonyms(gazetteers())
    people = [lb[s.start : s.end] for lb, s in zip(labels, label_spans, strict=True) if s]
    people += [
        t[s.start : s.end]
        for t, sp in zip(texts, spans, strict=True)
        for s in sp
        if s.type == "PERSON"
    ]
    ps.learn_people(people)
    done: list[Replacement] = []
    all_texts = list(labels) + list(texts)
    all_spans = [[s] if s else [] for s in label_spans] + spans
    out: list[str] = []
    for index, (text, sp) in enumerate(zip(all_texts, all_spans, strict=True)):
        pieces: list[str] = []
        pos = 0
        for s in sp:
            ph = ps.placeholder(s.type, text[s.start : s.end])
            pieces += [text[pos : s.start], ph]
            done.append(Replacement(index, s.start, s.end, s.type, ph, s.source))
            pos = s.end
        pieces.append(text[pos:])
        out.append("".join(pieces))
    return out[len(labels) :], out[: len(labels)], done
