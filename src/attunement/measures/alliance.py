"""Alliance rupture–repair sequences from session-by-session alliance scores.

Following Stiles et al. (2004, *J. Counseling Psychology* 51:81–92), a rupture–repair
sequence is V-shaped: the alliance drops well below the client's own usual level and then
comes back. Operationally (documented in ``docs/measures.md``):

* the client's *level* before session t is the running mean of their earlier scores
  (at least ``min_history`` of them);
* the client's *spread* is the SD of their whole series (Stiles used each client's own
  distribution, so a drop means the same thing for a client who always rates 9–10 and one
  who rates 4–8);
* a **drop** at t: score ≤ level − k·SD (reported for k = 1 and k = 2);
* **repaired** at the first later session whose score is back at or above the pre-drop
  level; **enhanced** when the recovered score exceeds the pre-drop level by at least
  ``enhance_margin``·SD; a drop with no recovery by the end of the series is
  **unrepaired**. Further drops before recovery belong to the same sequence.

``sequence_matrix`` runs the same rule over a clients × sessions matrix with a loop over
sessions only (30 iterations for 10,000 clients), which is what the benchmark measures.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

FloatArray = NDArray[np.float64]
Outcome = Literal["repaired", "enhanced", "unrepaired"]

MIN_HISTORY = 2
ENHANCE_MARGIN = 0.5


class Sequence(BaseModel):
    """One rupture–repair sequence, indices into the client's series."""

    model_config = ConfigDict(extra="forbid")

    k: float
    drop_index: int
    pre_level: float
    low_score: float
    depth_sd: float
    recovery_index: int | None
    recovered_score: float | None
    outcome: Outcome


def _series_sd(x: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.sum(~np.isnan(x), axis=1)
        mean = np.nansum(x, axis=1) / n
        var = np.nansum((x - mean[:, None]) ** 2, axis=1) / (n - 1)
    out: FloatArray = np.sqrt(var)
    return out


def sequence_matrix(
    x: FloatArray,
    k: float,
    *,
    min_history: int = MIN_HISTORY,
    enhance_margin: float = ENHANCE_MARGIN,
) -> dict[str, NDArray[np.int64]]:
    """Count sequences per client: ``{'drops', 'repaired', 'enhanced', 'unrepaired'}``.

    Also returns ``'open_since'`` (index of an unrepaired drop, −1 when none).
    """
    n, t = x.shape
    sd = _series_sd(x)
    csum = np.zeros(n)
    cnt = np.zeros(n)
    in_drop = np.zeros(n, dtype=bool)
    level = np.zeros(n)
    since = np.full(n, -1, dtype=np.int64)
    drops = np.zeros(n, dtype=np.int64)
    repaired = np.zeros(n, dtype=np.int64)
    enhanced = np.zeros(n, dtype=np.int64)
    for j in range(t):
        v = x[:, j]
        seen = ~np.isnan(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            running = csum / cnt
            back = in_drop & seen & (v >= level)
            better = back & (v >= level + enhance_margin * sd)
            starts = ~in_drop & seen & (cnt >= min_history) & (sd > 0) & (v <= running - k * sd)
        enhanced += better
        repaired += back & ~better
        in_drop &= ~back
        since[back] = -1
        drops += starts
        level = np.where(starts, running, level)
        since = np.where(starts, j, since)
        in_drop |= starts
        csum += np.where(seen, v, 0.0)
        cnt += seen
    return {
        "drops": drops,
        "repaired": repaired,
        "enhanced": enhanced,
        "unrepaired": in_drop.astype(np.int64),
        "open_since": since,
    }


def sequences(
    scores: list[float],
    k: float,
    *,
    min_history: int = MIN_HISTORY,
    enhance_margin: float = ENHANCE_MARGIN,
) -> list[Sequence]:
    """Rupture–repair sequences in one client's alliance series (in session order)."""
    arr = np.asarray(scores, dtype=np.float64)
    if len(arr) < min_history + 1:
        return []
    sd = float(np.std(arr, ddof=1))
    if not sd > 0:
        return []
    out: list[Sequence] = []
    open_seq: dict[str, float] | None = None
    for j, v in enumerate(arr):
        history = arr[:j]
        if open_seq is not None:
            open_seq["low"] = min(open_seq["low"], float(v))
            if v >= open_seq["level"]:
                enhanced = v >= open_seq["level"] + enhance_margin * sd
                out.append(
                    _seq(k, open_seq, sd, j, float(v), "enhanced" if enhanced else "repaired")
                )
                open_seq = None
            continue
        if len(history) >= min_history:
            level = float(history.mean())
            if v <= level - k * sd:
                open_seq = {"index": j, "level": level, "low": float(v)}
    if open_seq is not None:
        out.append(_seq(k, open_seq, sd, None, None, "unrepaired"))
    return out


def _seq(
    k: float,
    s: dict[str, float],
    sd: float,
    rec: int | None,
    rec_score: float | None,
    outcome: Outcome,
) -> Sequence:
    return Sequence(
        k=k,
        drop_index=int(s["index"]),
        pre_level=round(s["level"], 3),
        low_score=s["low"],
        depth_sd=round((s["level"] - s["low"]) / sd, 3),
        recovery_index=rec,
        recovered_score=rec_score,
        outcome=outcome,
    )


def slope(scores: list[float]) -> float | None:
    """Least-squares slope per session (None with fewer than 3 scores)."""
    if len(scores) < 3:
        return None
    y = np.asarray(scores, dtype=np.float64)
    xs = np.arange(len(y), dtype=np.float64)
    xs -= xs.mean()
    return float(np.dot(xs, y - y.mean()) / np.dot(xs, xs))


def slope_matrix(x: FloatArray) -> FloatArray:
    """Per-client least-squares slope over the columns (no NaNs expected)."""
    xs = np.arange(x.shape[1], dtype=np.float64)
    xs -= xs.mean()
    out: FloatArray = (x - x.mean(axis=1, keepdims=True)) @ xs / float(np.dot(xs, xs))
    return out
