"""Language style matching (LSM): how far therapist and client converge in function words.

People who are attending to each other drift towards the same *way* of talking — the same
rate of pronouns, articles, negations — independently of topic. LSM (Ireland & Pennebaker,
2010) measures that coordination per function-word category as
``1 − |p1 − p2| / (p1 + p2 + 0.0001)`` where ``p`` is the category's share of a speaker's
words (in percent), and averages the nine categories. Our word lists
(``data/function_words.toml``) are our own, not LIWC, so values are comparable within this
tool, not with published LIWC numbers.

Everything is vectorized: one (n, 9) count array per session, cumulative sums for the
rolling window.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from attunement.analysis.base import Analyzer
from attunement.analysis.lexicons import (
    LSM_CATEGORIES,
    TOKEN_RE,
    FunctionWords,
    function_words,
    normalize,
)
from attunement.model import Role, Session

EPS = 0.0001
WINDOW = 8
Counts = npt.NDArray[np.float64]


class FunctionWordCounter:
    """Counts the nine categories per text; contractions follow the data file's rule."""

    def __init__(self, words: FunctionWords | None = None) -> None:
        fw = words or function_words()
        index = {c: i for i, c in enumerate(LSM_CATEGORIES)}
        self._lookup: dict[str, tuple[int, ...]] = {}
        for cat, entries in fw.categories.items():
            for w in entries:
                w = normalize(w)
                self._lookup[w] = (*self._lookup.get(w, ()), index[cat])
        c = fw.contractions
        self._neg_suffix = c.negation_suffix
        self._neg = tuple(index[x] for x in c.negation_categories)
        self._s_after = frozenset(c.s_is_after)
        self._s = (index[c.s_category],)
        self._clitics = {k: (index[v],) for k, v in c.clitics.items()}
        self._cache: dict[str, tuple[int, ...]] = {}

    def categories(self, token: str) -> tuple[int, ...]:
        """Category indices a token counts in (possibly several, possibly none)."""
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        if token in self._lookup or "'" not in token:
            out = self._lookup.get(token, ())
        elif token.endswith(self._neg_suffix):
            out = self._neg
        else:
            base, _, clitic = token.partition("'")
            out = self._lookup.get(base, ())
            if clitic == "s":
                out = out + self._s if base in self._s_after else out
            else:
                out = out + self._clitics.get(clitic, ())
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[token] = out
        return out

    def count(self, texts: list[str]) -> tuple[Counts, Counts]:
        """(n, 9) category counts and (n,) word counts."""
        counts = np.zeros((len(texts), len(LSM_CATEGORIES)), dtype=np.float64)
        words = np.zeros(len(texts), dtype=np.float64)
        for i, text in enumerate(texts):
            tokens = TOKEN_RE.findall(normalize(text))
            words[i] = len(tokens)
            row = counts[i]
            for tok in tokens:
                for c in self.categories(tok):
                    row[c] += 1.0
        return counts, words


def lsm_matrix(a: Counts, wa: Counts, b: Counts, wb: Counts) -> Counts:
    """Per-category LSM for rows of counts ``a``/``b`` with word totals ``wa``/``wb``.

    Rows where either side has no words come out as NaN.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = 100.0 * a / wa[..., None]
        pb = 100.0 * b / wb[..., None]
        out: Counts = 1.0 - np.abs(pa - pb) / (pa + pb + EPS)
    out[(wa <= 0) | (wb <= 0)] = np.nan
    return out


def lsm_pair(a: Counts, wa: float, b: Counts, wb: float) -> tuple[float | None, dict[str, float]]:
    """(overall LSM, per-category LSM) between two category-count vectors."""
    if wa <= 0 or wb <= 0:
        return None, {}
    per = lsm_matrix(a[None, :], np.array([wa]), b[None, :], np.array([wb]))[0]
    cats = {c: round(float(v), 3) for c, v in zip(LSM_CATEGORIES, per, strict=True)}
    return float(per.mean()), cats


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


class LanguageStyleMatching(Analyzer):
    """Session, per-client, rolling (last ``window`` turns) and per-exchange LSM."""

    name = "lsm"
    version = "1"

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self._counter: FunctionWordCounter | None = None

    @property
    def counter(self) -> FunctionWordCounter:
        if self._counter is None:
            self._counter = FunctionWordCounter()
        return self._counter

    def __call__(self, session: Session) -> Session:
        self.clear(session)
        utts = session.utterances
        for u in utts:
            u.features.pop("lsm_rolling", None)
            u.features.pop("lsm_exchange", None)
        counts, words = self.counter.count([u.text for u in utts])
        is_t = np.array([u.role is Role.THERAPIST for u in utts], dtype=bool)
        metrics: dict[str, Any] = {"window": self.window, "categories": list(LSM_CATEGORIES)}

        # session level: therapist(s) pooled vs client(s) pooled, and vs each client
        t_c, t_w = counts[is_t].sum(axis=0), float(words[is_t].sum())
        c_c, c_w = counts[~is_t].sum(axis=0), float(words[~is_t].sum())
        overall, per_cat = lsm_pair(t_c, t_w, c_c, c_w)
        metrics["session"] = _r(overall)
        metrics["per_category"] = per_cat
        metrics["words"] = {"therapist": int(t_w), "client": int(c_w)}
        per_client: dict[str, float | None] = {}
        client_ids = [s.id for s in session.speakers if s.role is Role.CLIENT]
        if len(client_ids) > 1:
            spk = np.array([u.speaker for u in utts])
            for cid in client_ids:
                mask = spk == cid
                score, _ = lsm_pair(t_c, t_w, counts[mask].sum(axis=0), float(words[mask].sum()))
                per_client[cid] = _r(score)
        metrics["per_client"] = per_client

        metrics["rolling"] = self._rolling(session, counts, words, is_t)
        metrics["exchange"] = self._exchanges(session, counts, words)

        lowest = min(per_cat, key=lambda c: per_cat[c]) if per_cat else None
        metrics["headline"] = {
            "LSM (session)": _na(metrics["session"]),
            "LSM per exchange (mean)": _na(metrics["exchange"]["mean"]),
            "Rolling LSM (lowest)": _na(metrics["rolling"]["min"]),
            "Least matched words": lowest.replace("_", " ") if lowest else "n/a",
        }
        session.metrics[self.name] = metrics
        session.mark_applied(self.name, self.version)
        return session

    def _rolling(
        self, session: Session, counts: Counts, words: Counts, is_t: npt.NDArray[np.bool_]
    ) -> dict[str, Any]:
        n, w = len(session.utterances), self.window
        zero = np.zeros((1, counts.shape[1]))
        ct = np.vstack([zero, np.cumsum(counts * is_t[:, None], axis=0)])
        cc = np.vstack([zero, np.cumsum(counts * ~is_t[:, None], axis=0)])
        wt = np.concatenate([[0.0], np.cumsum(words * is_t)])
        wc = np.concatenate([[0.0], np.cumsum(words * ~is_t)])
        hi = np.arange(1, n + 1)
        lo = np.maximum(0, hi - w)
        per = lsm_matrix(ct[hi] - ct[lo], wt[hi] - wt[lo], cc[hi] - cc[lo], wc[hi] - wc[lo])
        values = per.mean(axis=1) if n else np.zeros(0)
        valid = ~np.isnan(values)
        for u, v, ok in zip(session.utterances, values, valid, strict=True):
            if ok:
                u.features["lsm_rolling"] = round(float(v), 4)
        if not valid.any():
            return {"n": 0, "mean": None, "min": None, "min_at": None, "max": None}
        vv = values[valid]
        i_min = int(np.flatnonzero(valid)[int(np.argmin(vv))])
        return {
            "n": int(valid.sum()),
            "mean": _r(float(vv.mean())),
            "min": _r(float(vv.min())),
            "min_at": session.utterances[i_min].id,
            "max": _r(float(vv.max())),
        }

    def _exchanges(self, session: Session, counts: Counts, words: Counts) -> dict[str, Any]:
        pos = {u.id: i for i, u in enumerate(session.utterances)}
        pairs = [(pos[c.id], pos[t.id]) for c, t in session.exchanges()]
        if not pairs:
            return {"n": 0, "mean": None, "median": None}
        ci, ti = (np.array(x) for x in zip(*pairs, strict=True))
        values = lsm_matrix(counts[ci], words[ci], counts[ti], words[ti]).mean(axis=1)
        valid = ~np.isnan(values)
        for t, v, ok in zip(ti, values, valid, strict=True):
            if ok:
                session.utterances[int(t)].features["lsm_exchange"] = round(float(v), 4)
        if not valid.any():
            return {"n": 0, "mean": None, "median": None}
        vv = values[valid]
        return {
            "n": int(valid.sum()),
            "mean": _r(float(vv.mean())),
            "median": _r(float(np.median(vv))),
        }


def _na(x: float | None) -> float | str:
    return "n/a" if x is None else x
