"""Change across sessions: reliable change, clinically significant change, sudden gains.

Formulas and sources (see ``docs/measures.md``):

* Reliable change index (Jacobson & Truax 1991):
  ``SE_diff = SD · √2 · √(1 − r)``, ``RCI = (x2 − x1) / SE_diff``, reliable when
  ``|RCI| > 1.96``.
* Clinically significant change (same paper): the score moves from the clinical to the
  non-clinical side of a cutoff. With both functional and dysfunctional norms the cutoff is
  criterion *c* = ``(SD0·M1 + SD1·M0) / (SD0 + SD1)``; with functional norms only it is
  criterion *b*-like, so we use the instrument's published clinical cutoff instead (noted in
  the result).
* Sudden gains (Tang & DeRubeis 1999) and sudden losses (the mirror image, Lutz et al.
  2013): between consecutive administrations N and N+1 (1) the change is at least a
  threshold, (2) at least 25 % of the pre-change score, and (3) the mean of the up-to-three
  scores before (N−2..N) and after (N+1..N+3) differ by a pooled two-sample t greater than
  the critical value: 2.776 with 3 + 3 scores (df 4), 3.182 with 3 + 2 (df 3), 4.303 with
  2 + 2 (df 2). With fewer than 2 scores on a side the third criterion cannot be tested and
  no gain is reported, as in later studies that adopted Tang & DeRubeis' adjustment.

Every function has a vectorized form (NumPy over clients × sessions) used by the course
engine and the benchmark, and the scalar helpers are defined by the same arithmetic.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from attunement.measures.instruments import Instrument

Direction = Literal["worse", "better"]
Category = Literal["recovered", "improved", "unchanged", "deteriorated"]

RCI_CRITICAL = 1.96
#: two-tailed 5 % critical t by degrees of freedom (n_pre + n_post − 2)
T_CRITICAL: dict[int, float] = {2: 4.303, 3: 3.182, 4: 2.776}

FloatArray = NDArray[np.float64]


def se_diff(sd: float, reliability: float) -> float:
    """Standard error of the difference between two scores."""
    return sd * math.sqrt(2.0) * math.sqrt(1.0 - reliability)


def rci(x1: float, x2: float, sd: float, reliability: float) -> float:
    """Jacobson–Truax reliable change index (post − pre, in SE_diff units)."""
    return (x2 - x1) / se_diff(sd, reliability)


def criterion_c(m_functional: float, sd_functional: float, m_dys: float, sd_dys: float) -> float:
    """Cutoff c: the point between the two populations weighted by their SDs."""
    return (sd_functional * m_dys + sd_dys * m_functional) / (sd_functional + sd_dys)


class Change(BaseModel):
    """Change from a baseline score to a later one."""

    model_config = ConfigDict(extra="forbid")

    baseline: float
    current: float
    rci: float | None
    reliable: bool | None
    status: Literal["improved", "deteriorated", "unchanged", "unknown"]
    cutoff: float | None
    cutoff_kind: Literal["criterion_c", "published_cutoff"] | None
    crossed_cutoff: bool | None
    category: Category | None
    note: str = ""


def csc_cutoff(
    inst: Instrument,
) -> tuple[float | None, Literal["criterion_c", "published_cutoff"] | None]:
    n = inst.norms
    if (
        n.functional_mean is not None
        and n.functional_sd is not None
        and n.dysfunctional_mean is not None
        and n.dysfunctional_sd is not None
    ):
        return (
            criterion_c(
                n.functional_mean, n.functional_sd, n.dysfunctional_mean, n.dysfunctional_sd
            ),
            "criterion_c",
        )
    if inst.cutoff is not None:
        return inst.cutoff.value, "published_cutoff"
    return None, None


def change(inst: Instrument, baseline: float, current: float) -> Change:
    """Reliable and clinically significant change from ``baseline`` to ``current``."""
    sign = -1.0 if inst.higher_is == "worse" else 1.0
    cutoff, kind = csc_cutoff(inst)
    n = inst.norms
    if n.sd is None or n.reliability is None:
        return Change(
            baseline=baseline,
            current=current,
            rci=None,
            reliable=None,
            status="unknown",
            cutoff=cutoff,
            cutoff_kind=kind,
            crossed_cutoff=None,
            category=None,
            note="no reliability/SD in the instrument file: reliable change not computed",
        )
    value = rci(baseline, current, n.sd, n.reliability)
    reliable = abs(value) > RCI_CRITICAL
    improving = sign * value > 0
    status: Literal["improved", "deteriorated", "unchanged"] = (
        "unchanged" if not reliable else "improved" if improving else "deteriorated"
    )
    crossed = None
    if cutoff is not None:
        if inst.higher_is == "worse":
            crossed = baseline >= cutoff > current
        else:
            crossed = baseline < cutoff <= current
    category: Category = status
    if status == "improved" and crossed:
        category = "recovered"
    return Change(
        baseline=baseline,
        current=current,
        rci=round(value, 3),
        reliable=reliable,
        status=status,
        cutoff=cutoff,
        cutoff_kind=kind,
        crossed_cutoff=crossed,
        category=category,
    )


# --- vectorized reliable change ---------------------------------------------------


def rci_matrix(x: FloatArray, sd: float, reliability: float) -> FloatArray:
    """RCI of every session against the first (column 0); shape as ``x``."""
    return (x - x[:, :1]) / se_diff(sd, reliability)


# --- sudden gains and losses ------------------------------------------------------


class SuddenShift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["gain", "loss"]
    pre_index: int
    post_index: int
    pre_score: float
    post_score: float
    magnitude: float
    t: float


def _windows(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """For each pre-change position j: scores j−2..j and j+1..j+3 (NaN-padded)."""
    n, t = x.shape
    padded = np.full((n, t + 5), np.nan)
    padded[:, 2 : t + 2] = x
    view = np.lib.stride_tricks.sliding_window_view(padded, 3, axis=1)
    pre = view[:, 0:t]  # window ending at j
    post = view[:, 3 : t + 3]  # window starting at j+1
    return pre, post


def _t_stats(pre: FloatArray, post: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Pooled two-sample t of pre vs. post windows and its critical value (NaN if untestable)."""
    n1 = np.sum(~np.isnan(pre), axis=-1)
    n2 = np.sum(~np.isnan(post), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m1 = np.nansum(pre, axis=-1) / n1
        m2 = np.nansum(post, axis=-1) / n2
        ss1 = np.nansum((pre - m1[..., None]) ** 2, axis=-1)
        ss2 = np.nansum((post - m2[..., None]) ** 2, axis=-1)
        df = n1 + n2 - 2
        sp2 = (ss1 + ss2) / df
        se = np.sqrt(sp2 * (1.0 / n1 + 1.0 / n2))
        diff = m1 - m2
        t = np.where(se > 0, diff / se, np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    crit = np.full(df.shape, np.nan)
    ok = (n1 >= 2) & (n2 >= 2)
    for d, c in T_CRITICAL.items():
        crit[ok & (df == d)] = c
    return t, crit


def sudden_shift_masks(
    x: FloatArray, threshold: float, higher_is: Direction = "worse"
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Masks of sudden gains and losses at each pre-change position, and the t statistic.

    ``x`` is clients × administrations (NaN for a missing administration). Element (i, j)
    of a mask is 1.0 when the change from j to j+1 qualifies.
    """
    pre_w, post_w = _windows(x)
    t, crit = _t_stats(pre_w, post_w)
    pre = x
    post = np.concatenate([x[:, 1:], np.full((x.shape[0], 1), np.nan)], axis=1)
    drop = pre - post  # positive: score went down
    with np.errstate(invalid="ignore"):
        big = np.abs(drop) >= threshold
        relative = np.abs(drop) >= 0.25 * np.abs(pre)
        down = big & relative & (t > crit) & (drop > 0)
        up = big & relative & (-t > crit) & (drop < 0)
    gains, losses = (down, up) if higher_is == "worse" else (up, down)
    return gains.astype(np.float64), losses.astype(np.float64), t


def sudden_shifts(
    scores: list[float], threshold: float, higher_is: Direction = "worse"
) -> list[SuddenShift]:
    """Sudden gains and losses in one client's series of administrations (in order)."""
    if len(scores) < 4:
        return []
    x = np.asarray([scores], dtype=np.float64)
    gains, losses, t = sudden_shift_masks(x, threshold, higher_is)
    out: list[SuddenShift] = []
    for j in range(len(scores) - 1):
        for mask, kind in ((gains, "gain"), (losses, "loss")):
            if mask[0, j]:
                out.append(
                    SuddenShift(
                        kind=kind,
                        pre_index=j,
                        post_index=j + 1,
                        pre_score=scores[j],
                        post_score=scores[j + 1],
                        magnitude=abs(scores[j] - scores[j + 1]),
                        t=float(abs(t[0, j])),
                    )
                )
    return out


def sudden_shifts_loop(
    scores: list[float], threshold: float, higher_is: Direction = "worse"
) -> list[tuple[str, int]]:
    """Plain-Python reference (the benchmark's baseline and the tests' oracle)."""
    out: list[tuple[str, int]] = []
    for j in range(len(scores) - 1):
        a, b = scores[j], scores[j + 1]
        pre = scores[max(0, j - 2) : j + 1]
        post = scores[j + 1 : j + 4]
        if len(pre) < 2 or len(post) < 2:
            continue
        if abs(a - b) < threshold or abs(a - b) < 0.25 * abs(a):
            continue
        m1, m2 = sum(pre) / len(pre), sum(post) / len(post)
        ss = sum((v - m1) ** 2 for v in pre) + sum((v - m2) ** 2 for v in post)
        df = len(pre) + len(post) - 2
        se = math.sqrt(ss / df * (1 / len(pre) + 1 / len(post)))
        tval = (m1 - m2) / se if se > 0 else (math.inf if m1 > m2 else -math.inf if m1 < m2 else 0)
        crit = T_CRITICAL[df]
        went_down = a > b and tval > crit
        went_up = a < b and -tval > crit
        if went_down or went_up:
            gain = went_down if higher_is == "worse" else went_up
            out.append(("gain" if gain else "loss", j))
    return out
