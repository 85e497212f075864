"""Word lists for the language-based analyzers: loading, validation and matching.

The lists are data (``data/function_words.toml``, ``data/emotion_lexicon.toml``) so a
clinician or researcher can read and change them without touching code; they are
validated with pydantic when first used and cached for the process. Tokenizing is one
compiled regex shared by every analyzer so that "words" means the same thing in talk
balance, LSM and tone.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from functools import cache
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from attunement.errors import SchemaError

_M = TypeVar("_M", bound=BaseModel)

#: A word: Unicode letters/digits, optionally with apostrophe parts ("don't", "i'm").
TOKEN_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
#: Negation does not reach across these (a clause boundary ends its scope).
CLAUSE_RE = re.compile(r"[.!?;:,\n]+|\s[-\u2013\u2014]+\s")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})

#: The nine LSM categories, in the order of the (n, 9) count arrays.
LSM_CATEGORIES: tuple[str, ...] = (
    "personal_pronouns",
    "impersonal_pronouns",
    "articles",
    "conjunctions",
    "prepositions",
    "auxiliary_verbs",
    "adverbs",
    "negations",
    "quantifiers",
)


def normalize(text: str) -> str:
    """Lower-case with straight apostrophes: the form every matcher works on."""
    return text.lower().translate(_APOSTROPHES)


_STAGE = re.compile(r"[(\[][^()\[\]]{0,40}[)\]]")


def spoken(text: str) -> str:
    """:func:`normalize` d text without stage directions such as ``(pause)``, ``[laughs]``.

    Keyword rules match what was said, not a transcriber's note about how it was said.
    """
    return _STAGE.sub(" ", normalize(text))


def tokenize(text: str) -> list[str]:
    """Words of ``text`` (lower case; contractions stay one token)."""
    return TOKEN_RE.findall(normalize(text))


# --- data file schemas -----------------------------------------------------------------
class Contractions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    negation_suffix: str = "n't"
    negation_categories: list[str]
    s_category: str
    s_is_after: list[str]
    clitics: dict[str, str]


class FunctionWords(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: dict[str, list[str]]
    contractions: Contractions

    @field_validator("categories")
    @classmethod
    def _nine(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        if set(v) != set(LSM_CATEGORIES):
            raise ValueError(f"categories must be exactly {', '.join(LSM_CATEGORIES)}")
        return v


class Mismatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    painful: list[str]
    laughter: list[str]
    positive_valence: float = Field(ge=0.0, le=1.0)


class ResponsivenessCues(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reflection: list[str]
    acknowledgement: list[str]
    exploration: list[str]
    logistics: list[str]


class EmotionLexicon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    negation_window: int = Field(ge=0, le=10)
    negators: list[str]
    strong_negative_valence: float = Field(ge=0.0, le=1.0)
    strong_positive_valence: float = Field(ge=0.0, le=1.0)
    emotions: dict[str, list[str]] = Field(min_length=1)
    related: dict[str, list[str]] = Field(default_factory=dict)
    mismatch: Mismatch
    responsiveness: ResponsivenessCues


def _load_toml(name: str) -> dict[str, object]:
    path = resources.files("attunement.data") / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"invalid TOML ({exc})", where=f"attunement/data/{name}") from None


def _validated(model: type[_M], name: str) -> _M:
    try:
        return model.model_validate(_load_toml(name))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SchemaError(f"{loc}: {first['msg']}", where=f"attunement/data/{name}") from None


@cache
def function_words() -> FunctionWords:
    return _validated(FunctionWords, "function_words.toml")


@cache
def emotion_lexicon() -> EmotionLexicon:
    return _validated(EmotionLexicon, "emotion_lexicon.toml")


# --- matching --------------------------------------------------------------------------
def phrase_regex(entries: Iterable[str]) -> re.Pattern[str]:
    """One alternation matching any entry on word boundaries in :func:`normalize` d text."""
    alts = sorted({normalize(e) for e in entries if e.strip()}, key=len, reverse=True)
    if not alts:
        return re.compile(r"(?!x)x")  # an empty list matches nothing
    return re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(a) for a in alts) + r")(?![\w'])")


class TermMatcher:
    """Finds labelled terms (words, ``prefix*`` words, phrases of ≤ 4 words) in tokens.

    Built once from ``{label: [entries]}``; matching is dictionary look-ups per token,
    so a whole session takes milliseconds. A match preceded within ``window`` tokens by a
    negator is reported separately as negated.
    """

    MAX_PHRASE = 4

    def __init__(
        self, terms: dict[str, list[str]], negators: Sequence[str] = (), window: int = 0
    ) -> None:
        self.labels = tuple(terms)
        self._words: dict[str, set[str]] = {}
        self._prefixes: dict[str, set[str]] = {}
        self._phrases: dict[tuple[str, ...], set[str]] = {}
        for label, entries in terms.items():
            for entry in entries:
                e = normalize(entry).strip()
                if e.endswith("*") and " " not in e:
                    self._prefixes.setdefault(e[:-1], set()).add(label)
                    continue
                toks = tuple(TOKEN_RE.findall(e))
                if len(toks) == 1:
                    self._words.setdefault(toks[0], set()).add(label)
                elif 1 < len(toks) <= self.MAX_PHRASE:
                    self._phrases.setdefault(toks, set()).add(label)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes})
        self._min_prefix = self._prefix_lengths[0] if self._prefix_lengths else 1 << 30
        self._phrase_lengths = sorted({len(p) for p in self._phrases}, reverse=True)
        self._phrase_starts = frozenset(p[0] for p in self._phrases)
        self._token_cache: dict[str, frozenset[str]] = {}
        self._negators = frozenset(normalize(n) for n in negators)
        self._window = window

    def _labels_at(self, tokens: Sequence[str], i: int) -> tuple[AbstractSet[str], int]:
        tok = tokens[i]
        if tok in self._phrase_starts:
            for n in self._phrase_lengths:
                if i + n <= len(tokens):
                    hit = self._phrases.get(tuple(tokens[i : i + n]))
                    if hit:
                        return hit, n
        labels = self._token_cache.get(tok)
        if labels is None:
            labels = self._word_labels(tok)
            if len(self._token_cache) > 50_000:
                self._token_cache.clear()
            self._token_cache[tok] = labels
        return labels, 1

    def _word_labels(self, tok: str) -> frozenset[str]:
        found = self._words.get(tok)
        labels = set(found) if found else set()
        if len(tok) >= self._min_prefix:
            for k in self._prefix_lengths:
                if k > len(tok):
                    break
                more = self._prefixes.get(tok[:k])
                if more:
                    labels |= more
        return frozenset(labels)

    def match(self, tokens: Sequence[str]) -> tuple[dict[str, int], dict[str, int]]:
        """(counts per label, negated counts per label) over ``tokens``."""
        counts: dict[str, int] = {}
        negated: dict[str, int] = {}
        i = 0
        while i < len(tokens):
            labels, step = self._labels_at(tokens, i)
            if labels:
                neg = any(t in self._negators for t in tokens[max(0, i - self._window) : i])
                target = negated if neg else counts
                for label in labels:
                    target[label] = target.get(label, 0) + 1
            i += step
        return counts, negated

    def match_text(self, text: str) -> tuple[dict[str, int], dict[str, int]]:
        """:meth:`match` clause by clause, so negation never crosses punctuation."""
        counts: dict[str, int] = {}
        negated: dict[str, int] = {}
        for clause in CLAUSE_RE.split(normalize(text)):
            c, n = self.match(TOKEN_RE.findall(clause))
            for label, k in c.items():
                counts[label] = counts.get(label, 0) + k
            for label, k in n.items():
                negated[label] = negated.get(label, 0) + k
        return counts, negated
