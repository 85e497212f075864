"""Emotional tone: valence, named feelings, and content/affect mismatch cues per utterance.

* ``valence`` — VADER's compound score (−1..1), a lexicon-and-rules sentiment model that
  runs offline; it was built for short social-media text, so on speech it is a rough
  guide to tone, not a measure of what a person feels.
* ``emo_<name>`` — share of the utterance's words that name a feeling of that family
  (sadness, anger, fear, anxiety, shame, hurt, joy), from our own small clinical lexicon
  (``data/emotion_lexicon.toml``) with simple negation ("I'm not angry" does not count).
  Only non-zero values are written; ``meta["emotions"]`` lists the families found, most
  frequent first.
* ``expresses_feeling`` (client turns, 0/1) — names a feeling or has strong valence
  (≤ −0.5 or ≥ 0.85; see the data file for why it is asymmetric); the
  emotional-responsiveness analyzer reads it.
* ``affect_mismatch`` (client turns, 0/1) — painful content told with laughter or positive
  valence ("my dad never came to anything (laughs)"): a cue later analyzers may weigh for
  the W_CONTENT_AFFECT marker. It is not a code and is never shown as one.
"""

from __future__ import annotations

import string
from functools import cache
from typing import Any, Protocol

from attunement.analysis.base import Analyzer
from attunement.analysis.lexicons import (
    TOKEN_RE,
    EmotionLexicon,
    TermMatcher,
    emotion_lexicon,
    normalize,
    phrase_regex,
)
from attunement.errors import DependencyError
from attunement.model import Role, Session

EMO_PREFIX = "emo_"
_PUNCT = string.punctuation
_OWN_FEATURES = ("valence", "expresses_feeling", "affect_mismatch")


class _Polarity(Protocol):
    lexicon: dict[str, float]

    def polarity_scores(self, text: str) -> dict[str, float]: ...


@cache
def _vader() -> _Polarity:
    """VADER loads its lexicon file once per process (about 0.1 s)."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        raise DependencyError(
            "the tone analyzer needs vaderSentiment: pip install vaderSentiment"
        ) from None
    analyzer: _Polarity = SentimentIntensityAnalyzer()
    return analyzer


class Valence:
    """VADER compound score with two shortcuts that do not change the result.

    A text with no word in VADER's lexicon scores exactly 0 (about a third of turns:
    "Mm-hm.", "I see."), so VADER is skipped for it; repeated texts come from a small memo.
    VADER is most of the tone analyzer's time, so this matters on long sessions.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._vader = _vader()
        self._lexicon = self._vader.lexicon
        self._memo: dict[str, float] = {}
        self._size = size

    def __call__(self, text: str) -> float:
        hit = self._memo.get(text)
        if hit is not None:
            return hit
        low = text.lower()
        words = {w.strip(_PUNCT) for w in low.split()} | set(TOKEN_RE.findall(normalize(text)))
        if not any(w in self._lexicon for w in words):
            v = 0.0
        else:
            v = float(self._vader.polarity_scores(text)["compound"])
        if len(self._memo) >= self._size:
            self._memo.clear()
        self._memo[text] = v
        return v


class EmotionMatcher:
    """The emotion lexicon compiled for matching (shared with responsiveness)."""

    def __init__(self, lexicon: EmotionLexicon | None = None) -> None:
        self.lexicon = lex = lexicon or emotion_lexicon()
        self.emotions = TermMatcher(lex.emotions, lex.negators, lex.negation_window)
        self.painful = TermMatcher({"painful": lex.mismatch.painful})
        self.laughter = phrase_regex(lex.mismatch.laughter)

    def feelings(self, text: str) -> dict[str, int]:
        """Non-negated feeling-word counts per emotion family."""
        return self.emotions.match_text(text)[0]


@cache
def default_matcher() -> EmotionMatcher:
    return EmotionMatcher()


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 3) if xs else None


class EmotionalTone(Analyzer):
    """Valence and feeling words on every utterance; summaries per role."""

    name = "tone"
    version = "1"

    def __init__(self, matcher: EmotionMatcher | None = None) -> None:
        self._matcher = matcher
        self._valence: Valence | None = None

    @property
    def matcher(self) -> EmotionMatcher:
        if self._matcher is None:
            self._matcher = default_matcher()
        return self._matcher

    def __call__(self, session: Session) -> Session:
        self.clear(session)
        m = self.matcher
        lex = m.lexicon
        if self._valence is None:
            self._valence = Valence()
        valence_of = self._valence
        utts = session.utterances
        n = len(utts)
        valence: dict[str, list[tuple[int, float]]] = {r.value: [] for r in Role}
        present: dict[str, dict[str, int]] = {r.value: {} for r in Role}
        feeling_ids: list[str] = []
        mismatch_ids: list[str] = []
        for pos, u in enumerate(utts):
            for key in [k for k in u.features if k.startswith(EMO_PREFIX) or k in _OWN_FEATURES]:
                del u.features[key]
            u.meta.pop("emotions", None)
            v = valence_of(u.text)
            u.features["valence"] = round(v, 4)
            valence[u.role.value].append((pos, v))
            found = m.feelings(u.text)
            if found:
                words = max(1, len(TOKEN_RE.findall(normalize(u.text))))
                for emo, k in found.items():
                    u.features[EMO_PREFIX + emo] = round(k / words, 4)
                    present[u.role.value][emo] = present[u.role.value].get(emo, 0) + 1
                u.meta["emotions"] = sorted(found, key=lambda e: (-found[e], e))
            if u.role is not Role.CLIENT:
                continue
            feeling = (
                bool(found) or v <= -lex.strong_negative_valence or v >= lex.strong_positive_valence
            )
            u.features["expresses_feeling"] = 1.0 if feeling else 0.0
            if feeling:
                feeling_ids.append(u.id)
            light = v >= lex.mismatch.positive_valence or m.laughter.search(normalize(u.text))
            mismatch = bool(light) and bool(m.painful.match_text(u.text)[0])
            u.features["affect_mismatch"] = 1.0 if mismatch else 0.0
            if mismatch:
                mismatch_ids.append(u.id)

        metrics: dict[str, Any] = {"valence": {}, "trajectory": {}, "emotions": present}
        for role, vals in valence.items():
            metrics["valence"][role] = _mean([v for _, v in vals])
            first = [v for p, v in vals if p < n / 3]
            last = [v for p, v in vals if p >= 2 * n / 3]
            f, la = _mean(first), _mean(last)
            metrics["trajectory"][role] = {
                "first_third": f,
                "last_third": la,
                "change": round(la - f, 3) if f is not None and la is not None else None,
            }
        n_client = len(valence["client"])
        metrics["client_feeling_turns"] = {
            "count": len(feeling_ids),
            "share": round(len(feeling_ids) / n_client, 4) if n_client else None,
        }
        metrics["affect_mismatch"] = mismatch_ids
        top = present["client"]
        change = metrics["trajectory"]["client"]["change"]
        share = metrics["client_feeling_turns"]["share"]
        metrics["headline"] = {
            "Client valence (mean)": _na(metrics["valence"]["client"]),
            "Therapist valence (mean)": _na(metrics["valence"]["therapist"]),
            "Client valence change": _na(change),
            "Client feeling turns %": "n/a" if share is None else round(100 * share, 1),
            "Top client emotion": max(top, key=lambda e: (top[e], e)) if top else "none found",
        }
        session.metrics[self.name] = metrics
        session.mark_applied(self.name, self.version)
        return session


def _na(x: float | None) -> float | str:
    return "n/a" if x is None else x
