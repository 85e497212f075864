"""Names of people, places and organisations in talk.

Transcripts break the usual signals: speech recognition writes "i saw kofi", chat
drops capitals, names are also words ("Will", "Hope"), and a turn starts a sentence with
whatever was said first. So a word is judged by what is around it:

- a run of capitalised words inside a sentence is a proper noun; what it ends in (Road,
  Hospital, Ltd, University) or a gazetteer says place or organisation, else person;
- at the start of a sentence, or in lower case, a word is a name only when the
  gazetteers know it as one and it is not an everyday word — or when a cue says so
  ("my sister ama", "called Bea", "Dr Okafor", "Kofi said");
- names already found for the same client (``known``) are found again everywhere,
  which is what keeps lower-case and sentence-initial mentions from leaking.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Set
from dataclasses import dataclass
from functools import cache

from attunement.deid.lexicon import (
    LOWERCASE_KNOWN_ZIPF,
    VERY_COMMON_ZIPF,
    Gazetteers,
    gazetteers,
    lists,
    zipf,
)
from attunement.deid.patterns import Span

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.-](?=[^\W\d_]))*(?:['’]s\b)?")
_INITIALS = re.compile(r"\b(?:[A-Z]\.\s?){2,3}(?![\w])")
_SENTENCE_END = re.compile(r"(?:[.!?:;\"“”()\[\]…\n]|--|—)\s*$")
#: a title's full stop is no sentence end ("Mrs. Baker")
_TITLE_STOP = re.compile(r"\b([A-Za-z]{2,9})\.\s*$")
#: how far back a sentence end is looked for (bounded: linear time on any input)
_WINDOW = 24


def _bare(word: str) -> str:
    w = word.lower().replace("’", "'")
    return w[:-2] if w.endswith("'s") else w


@cache
def _stop() -> frozenset[str]:
    n = lists().not_identifiers
    return frozenset(n.address_terms + n.calendar + n.groups + n.clinical + n.everyday)


@dataclass(frozen=True)
class Cues:
    """The word lists of ``data/deid.toml`` as sets, built once per process."""

    relations: frozenset[str]
    naming: frozenset[str]
    titles: frozenset[str]
    particles: frozenset[str]
    place_cues: frozenset[str]
    after: frozenset[str]
    strong_after: frozenset[str]
    org_suffix: frozenset[str]
    place_suffix: frozenset[str]
    any_suffix: frozenset[str]


@cache
def cues() -> Cues:
    lx = lists()
    pc, sx = lx.person_cues, lx.suffixes
    return Cues(
        relations=frozenset(pc.relations),
        naming=frozenset(pc.naming),
        titles=frozenset(pc.titles),
        particles=frozenset(pc.particles),
        place_cues=frozenset(lx.place_cues.before),
        after=frozenset(w for w in lx.person_after.words if " " not in w),
        strong_after=frozenset(lx.person_after.strong),
        org_suffix=frozenset(sx.organization),
        place_suffix=frozenset(sx.place),
        any_suffix=frozenset(sx.organization) | frozenset(sx.place),
    )


def _possessive(word: str) -> bool:
    return word.lower().replace("’", "'").endswith("'s")


@cache
def _numbers() -> frozenset[str]:
    n = lists().numbers
    return frozenset(n.words + n.ordinals + [w for w in n.digits if len(w) > 1])


def stopped(word: str) -> bool:
    """A word that is not an identifier on its own ('Mum', 'Sundays', 'Sunday-night')."""
    stop = _stop()
    w = _bare(word)
    return (
        w in stop
        or w in _numbers()
        or w.split("-")[0] in stop
        or (w.endswith("s") and w[:-1] in stop)
    )


def lowercase_text(text: str) -> bool:
    """Talk written without capitals (speech recognition, chat): 'I' aside."""
    return not any(ch.isupper() for ch in re.sub(r"\bI\b|\bI'", "", text))


def _is_cap(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper() and len(word) <= 4)


class _Tokens:
    """The words of one utterance with where they are."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]

    def initial(self, i: int) -> bool:
        start = self.items[i][0]
        if i == 0:
            return True
        before = self.text[max(0, start - _WINDOW) : start]
        title = _TITLE_STOP.search(before)
        if title and title.group(1).lower() in cues().titles:
            return False
        return bool(_SENTENCE_END.search(before))

    def lower(self, i: int) -> str:
        return _bare(self.items[i][2]) if 0 <= i < len(self.items) else ""

    def joined(self, i: int) -> bool:
        """Only a space between word i-1 and word i (or a title's full stop and a space:
        "Mrs. Baker")."""
        gap = self.text[self.items[i - 1][1] : self.items[i][0]]
        return gap == " " or (gap == ". " and self.lower(i - 1) in cues().titles)


def _person_word(w: str, g: Gazetteers, known: Set[str]) -> bool:
    return w in known or w in g.first_names or w in g.surnames


def find_names(text: str, known: Set[str] = frozenset()) -> Iterator[Span]:
    """Person, place and organisation names in one utterance; ``known`` holds lower-case
    name words already found for this client."""
    g = gazetteers()
    c = cues()
    relations, titles = c.relations, c.titles
    tk = _Tokens(text)
    items = tk.items
    n = len(items)
    used = [False] * n
    # 1) runs of capitalised words (with particles inside)
    i = 0
    while i < n:
        w0 = tk.lower(i)
        if not _is_cap(items[i][2]) or (
            stopped(items[i][2]) and w0 not in titles and w0 not in {"st", "saint"}
        ):
            i += 1
            continue
        j = i + 1
        while (
            j < n
            and tk.joined(j)
            and (
                (_is_cap(items[j][2]) and tk.lower(j) not in {"i", "i'm", "i've", "i'd", "i'll"})
                or (tk.lower(j) in c.particles and j + 1 < n and _is_cap(items[j + 1][2]))
            )
        ):
            j += 1
        words = [tk.lower(k) for k in range(i, j)]
        span = _classify_run(tk, i, j, words, g, known, c)
        if span is not None:
            for k in range(i, j):
                used[k] = True
            yield span
        i = j
    # 2) single words that cues, gazetteers or the client's known names mark
    lower = lowercase_text(text)
    for k in range(n):
        if used[k]:
            continue
        w = tk.lower(k)
        raw = items[k][2]
        prev, nxt = tk.lower(k - 1), tk.lower(k + 1)
        # "my daughter June": a capitalised word right after a relation is a name
        related = prev in relations and _is_cap(raw) and k > 0 and tk.joined(k)
        if (
            w in {"st", "saint"}
            and k + 1 < n
            and tk.joined(k + 1)
            and not used[k + 1]
            and (not g.is_common(tk.lower(k + 1)) and not stopped(items[k + 1][2]))
        ):
            used[k + 1] = True  # "st aidan's": a church, a school, a hospital
            yield Span(items[k][0], items[k + 1][1], "LOCATION", 0.5, "saint")
            continue
        if len(w) < 2 or (stopped(raw) and w not in known and not related):
            continue
        common = g.is_common(w) and not related
        cued = (
            related
            or prev in relations
            or prev in c.naming
            or (prev in titles and k > 0 and tk.joined(k))
            or (nxt in c.after and not common and w in g.first_names)
        )
        if w in g.first_names and (
            nxt in c.strong_after or (lower and _possessive(raw) and zipf(w) < 5.0)
        ):
            yield Span(items[k][0], _end(items[k]), "PERSON", 0.65, "cue")
            continue
        pos = (items[k][0], _end(items[k]))
        if (
            raw.islower()
            and k + 1 < n
            and not used[k + 1]
            and tk.joined(k + 1)
            and w in g.first_names
            and nxt in g.surnames
            and not g.is_common(nxt)
            and not stopped(nxt)
        ):
            used[k + 1] = True
            yield Span(items[k][0], _end(items[k + 1]), "PERSON", 0.6, "full-name")
            continue
        if w in known and (
            not common
            or _is_cap(raw)
            or cued
            or zipf(w) < VERY_COMMON_ZIPF
            or (lower and zipf(w) < LOWERCASE_KNOWN_ZIPF)
        ):
            yield Span(*pos, "PERSON", 0.8, "known")
        elif cued and not common:
            yield Span(*pos, "PERSON", 0.7, "cue")
        elif (
            raw.islower()
            and nxt in c.any_suffix
            and not common
            and (k + 1 < n and not used[k + 1] and tk.joined(k + 1) and not g.in_dictionary(w))
        ):
            kind = "LOCATION" if nxt in c.place_suffix else "ORGANIZATION"
            used[k + 1] = True
            yield Span(items[k][0], _end(items[k + 1]), kind, 0.5, "lower-suffix")
        elif (
            raw.islower()
            and w in g.places
            and not common
            and (prev in c.place_cues or not g.in_dictionary(w))
        ):
            yield Span(*pos, "LOCATION", 0.5, "gazetteer")

        elif raw.islower() and w in g.first_names and not common and w not in g.lower_words:
            yield Span(*pos, "PERSON", 0.55, "gazetteer")
        elif lower and g.is_rare(w):
            yield Span(*pos, "PERSON", 0.4, "rare-word")
    for m in _INITIALS.finditer(text):
        yield Span(
            m.start(),
            m.end().__index__() - (1 if text[m.end() - 1] == " " else 0),
            "PERSON",
            0.5,
            "initials",
        )


def _end(item: tuple[int, int, str]) -> int:
    """End of a word without a possessive 's."""
    _, end, word = item
    return end - 2 if _bare(word) != word.lower().replace("’", "'") else end


def _classify_run(
    tk: _Tokens,
    i: int,
    j: int,
    words: list[str],
    g: Gazetteers,
    known: Set[str],
    c: Cues,
) -> Span | None:
    items = tk.items
    titles = c.titles
    # a title opens the run: the name is what follows it ("Dr Okafor")
    if words[0] in titles and j - i >= 2:
        return Span(items[i + 1][0], _end(items[j - 1]), "PERSON", 0.85, "title")
    if words[0] in titles:
        return None
    start, end = items[i][0], _end(items[j - 1])
    phrase = " ".join(words)
    last = words[-1]
    if last in {"day", "eve", "night", "weekend"}:
        return None  # a holiday: "Labor Day", "Burns Night"
    if j - i >= 2 and last in c.org_suffix:
        return Span(start, end, "ORGANIZATION", 0.7, "org-suffix")
    if j - i >= 2 and (last in c.place_suffix or words[0] in {"st", "saint", "mount", "lake"}):
        return Span(start, end, "LOCATION", 0.7, "place-suffix")
    prev = tk.lower(i - 1)
    place = phrase in g.places and (
        j - i >= 2 or prev in c.place_cues or words[0] not in g.first_names
    )
    if place and not (tk.initial(i) and g.is_common(phrase)):
        return Span(start, end, "LOCATION", 0.65, "gazetteer")
    name_like = [w for w in words if _person_word(w, g, known)]
    if tk.initial(i):
        first = words[0]
        if j - i == 1:
            nxt = tk.lower(j)
            raw = items[i][2]
            strong = nxt in c.strong_after or _possessive(raw)
            if first in known and (not g.is_common(first) or strong):
                return Span(start, end, "PERSON", 0.8, "known")
            if first in g.first_names and strong:
                return Span(start, end, "PERSON", 0.6, "cue")
            if (
                _person_word(first, g, known)
                and not g.is_common(first)
                and (first not in g.lower_words or nxt in c.after)
            ):
                return Span(start, end, "PERSON", 0.6, "gazetteer")
            if g.is_rare(first):
                return Span(start, end, "PERSON", 0.45, "rare-word")
            return None
        # "Kofi Mensah said", "Did Liz come": a run of two or more at the start; a
        # leading everyday word ("Did", "Thank") is not part of the name
        if not name_like and all(g.is_common(w) for w in words):
            return None
        k = i
        while (
            k < j - 1
            and (g.is_common(words[k - i]) or words[k - i] in g.lower_words)
            and (words[k - i] not in known)
        ):
            k += 1
        return Span(items[k][0], end, "PERSON", 0.65, "capitalised")
    if all(g.is_common(w) and w not in known for w in words) and not name_like:
        return None
    if any(stopped(w) for w in words) and not name_like:
        return None
    return Span(start, end, "PERSON", 0.7 if name_like else 0.55, "capitalised")
