"""Per-code agreement between coders, and ICC for session-level ratings.

:func:`code_agreement` takes one code's :class:`~attunement.agreement.stats.Ratings` and
returns plain JSON: the unit counts each statistic rests on, the statistics, and a
bootstrap interval for each. :func:`session_icc` does the same for a session-level
rating scale with ``pingouin.intraclass_corr``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial
from itertools import combinations
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

import attunement.agreement.stats as stats
from attunement.agreement.stats import FloatArray, Ratings
from attunement.errors import missing_extra

DEFAULT_BOOT = 1000
DEFAULT_LEVEL = 0.95


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


Replicates = Callable[[FloatArray], FloatArray]


def code_agreement(
    r: Ratings, boot: int = DEFAULT_BOOT, seed: int = 0, level: float = DEFAULT_LEVEL
) -> dict[str, Any]:
    """Every statistic for one code (see the module docs and ``docs/agreement.md``)."""
    v = len(r.labels)
    coded = ~np.isnan(r.values)
    pair = coded.sum(axis=1) >= 2
    vals = r.values[pair]
    table = stats.counts(vals, v)
    n = int(pair.sum())
    complete = coded[pair].all(axis=1)
    out: dict[str, Any] = {
        "code": r.code,
        "kind": r.kind,
        "labels": list(r.labels),
        "coders": list(r.coders),
        "n_units": int(coded.any(axis=1).sum()),
        "n_pairable": n,
        "n_complete": int(complete.sum()),
        "n_boot": boot,
        "ci_level": level,
        "distribution": {lab: int(table[:, i].sum()) for i, lab in enumerate(r.labels)},
    }
    # statistic name -> replicate function of unit weights (``B × n_pairable``)
    boots: dict[str, Replicates] = {}
    if n:
        ones = np.ones((1, n))
        out["percent_agreement"] = _r(stats.agreement_replicates(table, ones)[0])
        boots["percent_agreement"] = partial(stats.agreement_replicates, table)
        if r.kind == "binary":
            out["positive_agreement"] = _r(stats.positive_replicates(table, ones)[0])
            boots["positive_agreement"] = partial(stats.positive_replicates, table)
        for lvl in ("nominal", "ordinal"):
            if lvl == "nominal" or r.kind == "ordinal":
                out[f"alpha_{lvl}"] = _r(stats.krippendorff_alpha(vals, v, lvl))
                boots[f"alpha_{lvl}"] = partial(_alpha, table, lvl)
    if len(r.coders) == 2:
        boots.update(_cohen(r, vals, out))
    elif len(r.coders) > 2:
        out["pairwise_kappa"] = {
            f"{r.coders[i]}|{r.coders[j]}": _r(
                stats.cohen_kappa(*_both(r.values[:, i], r.values[:, j]))
            )
            for i, j in combinations(range(len(r.coders)), 2)
        }
        ks = [k for k in out["pairwise_kappa"].values() if k is not None]
        out["mean_pairwise_kappa"] = _r(float(np.mean(ks))) if ks else None
    if len(r.coders) >= 2 and complete.any():
        out["fleiss_kappa"] = _r(stats.fleiss_kappa(table[complete]))
        boots["fleiss_kappa"] = partial(_fleiss, table[complete], complete)
    out.update(_intervals(out, boots, n, boot, seed, level))
    return out


def _alpha(table: FloatArray, level: Literal["nominal", "ordinal"], w: FloatArray) -> FloatArray:
    return stats.alpha_replicates(table, w, level)


def _fleiss(table: FloatArray, rows: npt.NDArray[np.bool_], w: FloatArray) -> FloatArray:
    return stats.fleiss_replicates(table, w[:, rows])


def _kappa(
    onehot: FloatArray, rows: npt.NDArray[np.bool_], v: int, quad: bool, w: FloatArray
) -> FloatArray:
    return stats.kappa_replicates(onehot, w[:, rows], v, quad)


def _intervals(
    point: dict[str, Any], boots: dict[str, Replicates], n: int, b: int, seed: int, level: float
) -> dict[str, list[float] | None]:
    """``<name>_ci`` for every statistic with a value, from ``b`` replicates drawn in
    blocks (memory stays bounded for large tables)."""
    live = {k: f for k, f in boots.items() if point.get(k) is not None}
    reps: dict[str, list[FloatArray]] = {k: [] for k in live}
    if n and b and live:
        for w in stats.weight_blocks(n, b, seed):
            for k, f in live.items():
                reps[k].append(f(w))
    out: dict[str, list[float] | None] = {f"{k}_ci": None for k in boots}
    for k, parts in reps.items():
        got = stats.interval(np.concatenate(parts), level) if parts else None
        out[f"{k}_ci"] = list(got) if got else None
    return out


def _both(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    keep = ~np.isnan(a) & ~np.isnan(b)
    return a[keep].astype(int), b[keep].astype(int)


def _cohen(r: Ratings, vals: FloatArray, out: dict[str, Any]) -> dict[str, Replicates]:
    """Cohen's kappa (and quadratic-weighted for ordinal codes) into ``out``; returns
    their replicate functions."""
    v = len(r.labels)
    keep = np.asarray(~np.isnan(vals).any(axis=1), dtype=np.bool_)
    a, b = vals[keep, 0], vals[keep, 1]
    out["n_both"] = int(keep.sum())
    out["cohen_kappa"] = _r(stats.cohen_kappa(a.astype(int), b.astype(int)))
    onehot = stats.pairs_onehot(a, b, v)
    boots: dict[str, Replicates] = {"cohen_kappa": partial(_kappa, onehot, keep, v, False)}
    if r.kind == "ordinal" and v > 2:
        kq = stats.cohen_kappa(a.astype(int), b.astype(int), weights="quadratic")
        out["cohen_kappa_quadratic"] = _r(kq)
        boots["cohen_kappa_quadratic"] = partial(_kappa, onehot, keep, v, True)
    return boots


# --- session-level ratings: ICC ---------------------------------------------------------

#: pingouin's row names → ours (Shrout & Fleiss 1979 forms; McGraw & Wong's A/C naming)
ICC_FORMS = {
    "ICC(1,1)": "icc1",
    "ICC(A,1)": "icc2_1",
    "ICC(C,1)": "icc3_1",
    "ICC(1,k)": "icc1_k",
    "ICC(A,k)": "icc2_k",
    "ICC(C,k)": "icc3_k",
}


def icc_replicates(y: FloatArray, w: FloatArray) -> dict[str, FloatArray]:
    """ICC(2,1) and ICC(3,1) of the complete ``targets × raters`` matrix ``y`` for each
    row of target weights (two-way ANOVA mean squares, Shrout & Fleiss 1979)."""
    n, k = y.shape
    total = w.sum(axis=1)
    rows = y.mean(axis=1)
    grand = (w @ rows) / total
    cols = (w @ y) / total[:, None]
    sst = w @ (y**2).sum(axis=1) - total * k * grand**2
    ssr = k * (w @ rows**2 - total * grand**2)
    ssc = total * ((cols - grand[:, None]) ** 2).sum(axis=1)
    sse = sst - ssr - ssc
    msr, msc = ssr / (n - 1), ssc / (k - 1)
    mse = sse / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
        icc3 = (msr - mse) / (msr + (k - 1) * mse)
    return {"icc2_1": icc2, "icc3_1": icc3}


def session_icc(
    scale: str,
    coders: list[str],
    y: FloatArray,
    boot: int = DEFAULT_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Any]:
    """ICC forms for one rating scale; ``y`` is ``sessions × coders`` (``nan`` missing).
    Only sessions every coder rated are used (``n_sessions``), as ICC needs."""
    try:
        pd = importlib.import_module("pandas")
        pg = importlib.import_module("pingouin")
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_extra("pingouin", "research") from None
    full = y[~np.isnan(y).any(axis=1)]
    out: dict[str, Any] = {
        "scale": scale,
        "coders": list(coders),
        "n_sessions": int(full.shape[0]),
        "n_sessions_rated": int((~np.isnan(y)).any(axis=1).sum()),
        "n_boot": boot,
        "ci_level": level,
    }
    if full.shape[0] < 3 or len(coders) < 2 or np.ptp(full) == 0:
        out["note"] = "ICC needs at least 3 sessions rated by every coder, with some variation"
        return out
    long = pd.DataFrame(
        [(i, c, full[i, j]) for i in range(full.shape[0]) for j, c in enumerate(coders)],
        columns=["session", "coder", "value"],
    )
    res = pg.intraclass_corr(data=long, targets="session", raters="coder", ratings="value")
    for _, row in res.iterrows():
        name = ICC_FORMS.get(str(row["Type"]))
        if name:
            out[name] = _r(float(row["ICC"]))
            out[f"{name}_ci_f"] = [float(x) for x in row["CI95"]]
    if boot:
        blocks = [icc_replicates(full, w) for w in stats.weight_blocks(len(full), boot, seed)]
        for name in blocks[0]:
            got = stats.interval(np.concatenate([b[name] for b in blocks]), level)
            out[f"{name}_ci"] = list(got) if got else None
    return out
