"""Feature vectors for the coding heads, built for a whole batch at once.

An utterance is coded from what was said *and* what it answers: a "Yeah." is a minimal
response only after an open invitation, a reflection mirrors the client turn before it.
So each item carries its context (earlier turns, oldest first) and the vector is

    [ emb(utterance) | emb(previous turn) | emb(previous other-role turn)   (per recipe)
      | cheap lexical/structural cues | optional word n-gram tf-idf ]

Every distinct text is encoded once per batch (the encoder also memoizes across calls).
The tf-idf part is implemented here in numpy (not sklearn) so that training and the
analyze path tokenize identically and no sklearn import is needed at inference.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from attunement.coding.card import FeatureRecipe, TfidfSpec
from attunement.coding.encoders import Encoder

Array = npt.NDArray[np.float32]

_WORD = re.compile(r"[a-z']+|[?!]")
_FIRST_SG = frozenset(["i", "me", "my", "mine", "myself", "i'm", "i've", "i'd", "i'll", "im"])
_FIRST_PL = frozenset(["we", "us", "our", "ours", "ourselves", "we're", "we've"])
_SECOND = frozenset(["you", "your", "yours", "yourself", "you're", "you've", "you'd", "you'll"])
_NEGATION = frozenset(
    ["no", "not", "never", "nothing", "nobody", "none", "nope", "don't", "can't", "won't"]
)
_HEDGE = frozenset(["guess", "maybe", "dunno", "whatever", "suppose", "fine", "okay", "ok", "sure"])
_WH = frozenset(["what", "how", "why", "when", "where", "who", "which", "tell", "describe"])
_AUX = frozenset(
    [
        "do",
        "does",
        "did",
        "are",
        "is",
        "was",
        "were",
        "can",
        "could",
        "would",
        "will",
        "have",
        "has",
        "had",
        "should",
        "shall",
        "am",
    ]
)
_APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|my (fault|mistake)|i was wrong)\b")
_REFLECT = re.compile(r"\b(sounds like|it seems|you feel|you're feeling|you felt|so you)\b")
_LAUGH = re.compile(r"\((laugh|chuckl)|\b(haha|lol)\b")
_INVITE = re.compile(r"\b(tell me|say more|what|how|talk about)\b")

#: names of the lexical features, in column order (documented in docs/coding.md)
LEXICAL_NAMES: tuple[str, ...] = (
    "question_mark",
    "log_words",
    "words_le3",
    "words_4_15",
    "words_gt15",
    "first_person_sg",
    "first_person_pl",
    "second_person",
    "negation",
    "hedge",
    "apology",
    "starts_wh",
    "starts_aux",
    "reflection_cue",
    "laughter",
    "prev_question",
    "prev_other_open_invitation",
    "prev_log_words",
    "cosine_prev_other",
)


@dataclass
class Item:
    """One utterance to code: its role, text, and earlier turns (role, text), oldest first."""

    role: str
    text: str
    context: list[tuple[str, str]] = field(default_factory=list)

    @property
    def prev(self) -> str:
        return self.context[-1][1] if self.context else ""

    @property
    def prev_other(self) -> str:
        for role, text in reversed(self.context):
            if role != self.role:
                return text
        return ""


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _own_cues(text: str) -> list[float]:
    """The 15 cues that depend on the utterance alone (computed once per distinct text)."""
    words = [t for t in tokens(text) if t not in ("?", "!")]
    n = max(len(words), 1)
    low = text.lower()
    first = words[0] if words else ""
    return [
        float("?" in text),
        math.log1p(len(words)) / 5.0,
        float(len(words) <= 3),
        float(3 < len(words) <= 15),
        float(len(words) > 15),
        sum(w in _FIRST_SG for w in words) / n,
        sum(w in _FIRST_PL for w in words) / n,
        sum(w in _SECOND for w in words) / n,
        sum(w in _NEGATION or w.endswith("n't") for w in words) / n,
        sum(w in _HEDGE for w in words) / n,
        float(bool(_APOLOGY.search(low))),
        float(first in _WH),
        float(first in _AUX),
        float(bool(_REFLECT.search(low))),
        float(bool(_LAUGH.search(low))),
    ]


def lexical_features(texts: Sequence[str], prevs: Sequence[str], others: Sequence[str]) -> Array:
    """Lexical/structural cues (:data:`LEXICAL_NAMES`); the cosine column is left at 0."""
    own = {t: _own_cues(t) for t in {*texts, *prevs}}
    invite = {o: float("?" in o and bool(_INVITE.search(o.lower()))) for o in set(others)}
    rows = [
        [*own[t], float("?" in pv), invite[po], own[pv][1], 0.0]
        for t, pv, po in zip(texts, prevs, others, strict=True)
    ]
    out: Array = np.asarray(rows, dtype=np.float32).reshape(len(texts), len(LEXICAL_NAMES))
    return out


def encode_all(encoders: Sequence[Encoder], texts: Sequence[str]) -> Array:
    """Concatenated embeddings of ``texts`` (empty text → zero vector)."""
    uniq = sorted({t for t in texts if t})
    index = {t: i for i, t in enumerate(uniq)}
    dim = sum(e.dim for e in encoders)
    table = np.zeros((len(uniq) + 1, dim), dtype=np.float32)  # last row: empty text
    if uniq:
        table[: len(uniq)] = np.hstack([e.encode(uniq) for e in encoders])
    rows = [index.get(t, len(uniq)) if t else len(uniq) for t in texts]
    out: Array = table[rows]
    return out


def dense_features(
    items: Sequence[Item], encoders: Sequence[Encoder], recipe: FeatureRecipe
) -> Array:
    """Embeddings + lexical cues for every item (unstandardized), in one batch."""
    texts = [it.text for it in items]
    prevs = [it.prev for it in items]
    others = [it.prev_other for it in items]
    emb = encode_all(encoders, texts + prevs + others)
    n = len(items)
    u, p, o = emb[:n], emb[n : 2 * n], emb[2 * n :]
    blocks: list[Array] = []
    if recipe.utterance:
        blocks.append(u)
    for name in recipe.context:
        blocks.append(p if name == "prev" else o)
    if recipe.lexical:
        lex = lexical_features(texts, prevs, others)
        # per-encoder blocks are each unit-norm, so divide by the number of encoders
        lex[:, -1] = (u * o).sum(axis=1) / max(len(encoders), 1)
        blocks.append(lex)
    if not blocks:
        return np.zeros((n, 0), dtype=np.float32)
    out: Array = np.hstack(blocks).astype(np.float32, copy=False)
    return out


# --- tf-idf ---------------------------------------------------------------------------
def ngrams(text: str, n_max: int) -> list[str]:
    toks = tokens(text)
    grams = list(toks)
    for n in range(2, n_max + 1):
        grams.extend(" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return grams


def fit_tfidf(texts: Sequence[str], spec: TfidfSpec) -> tuple[npt.NDArray[np.str_], Array]:
    """Vocabulary (most frequent n-grams by document frequency) and smoothed idf."""
    df: Counter[str] = Counter()
    for t in texts:
        df.update(set(ngrams(t, spec.ngram_max)))
    kept = [(g, c) for g, c in df.items() if c >= spec.min_df]
    kept.sort(key=lambda gc: (-gc[1], gc[0]))
    kept = kept[: spec.max_features]
    kept.sort()
    n = len(texts)
    vocab = np.asarray([g for g, _ in kept], dtype=np.str_)
    idf = np.asarray([math.log((1 + n) / (1 + c)) + 1.0 for _, c in kept], dtype=np.float32)
    return vocab, idf


def tfidf_transform(
    texts: Sequence[str], vocab: npt.NDArray[np.str_], idf: Array, n_max: int
) -> Array:
    """Sublinear-tf × idf, L2-normalized rows (dense: sessions are small)."""
    index = {str(g): i for i, g in enumerate(vocab.tolist())}
    out = np.zeros((len(texts), len(index)), dtype=np.float32)
    for r, t in enumerate(texts):
        counts = Counter(g for g in ngrams(t, n_max) if g in index)
        for g, c in counts.items():
            out[r, index[g]] = 1.0 + math.log(c)
    out *= idf[None, :]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    res: Array = out / norms
    return res
