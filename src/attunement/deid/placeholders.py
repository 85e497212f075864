"""Consistent placeholders: one client's people, places and numbers keep theirs across
every session ("Elizabeth", "Liz" and "Lizzie" are all ``[PERSON_1]``).

People are keyed by their first name (its full form when a nickname's full form is also
mentioned for the client), so "Dana Whitfield", "Dana" and "Dana's" are one person. A
surname alone ("Whitfield", "Dr Whitfield") joins the person who carries it when only one
person of the client's does, else it stands for itself. Everything else is keyed by its
lower-cased text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from attunement.deid.lexicon import Gazetteers

_SPACE = re.compile(r"\s+")
_POSSESSIVE = re.compile(r"['’]s$", re.I)


def surface_key(text: str) -> str:
    return _POSSESSIVE.sub("", _SPACE.sub(" ", text.strip().lower().replace("’", "'")))


class Pseudonyms:
    """Placeholders for one client (or whatever group keeps them consistent)."""

    def __init__(self, gazetteers: Gazetteers) -> None:
        self._g = gazetteers
        self._keys: dict[tuple[str, str], str] = {}
        self._count: Counter[str] = Counter()
        self._firsts: set[str] = set()
        self._surname_of: dict[str, set[str]] = {}

    def learn_people(self, names: Iterable[str]) -> None:
        """Every person mention of the client, before any placeholder is handed out."""
        for name in names:
            words = surface_key(name).split()
            if len(words) >= 2:
                self._firsts.add(words[0])
                self._surname_of.setdefault(words[-1], set()).add(words[0])
            elif words:
                self._firsts.add(words[0])

    def _person_key(self, text: str) -> str:
        words = surface_key(text).split()
        if not words:
            return ""
        if len(words) == 1 and words[0] in self._surname_of:
            owners = self._surname_of[words[0]]
            if len(owners) == 1:
                words = [next(iter(owners))]
        first = words[0]
        full = sorted(f for f in self._g.canonical.get(first, ()) if f in self._firsts)
        return full[0] if full else first

    def placeholder(self, kind: str, text: str) -> str:
        key = self._person_key(text) if kind == "PERSON" else surface_key(text)
        found = self._keys.get((kind, key))
        if found is None:
            self._count[kind] += 1
            found = self._keys[(kind, key)] = f"[{kind}_{self._count[kind]}]"
        return found

    def counts(self) -> dict[str, int]:
        """Distinct placeholders per type."""
        return dict(self._count)
