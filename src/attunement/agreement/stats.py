"""Agreement statistics for one code: point estimates from kept libraries, bootstrap CIs.

A code's ratings are a ``units × coders`` matrix of category indices (``nan`` = that
coder did not code that unit). Point estimates come from the libraries the field uses:

* Cohen's kappa (two coders, units both coded): ``sklearn.metrics.cohen_kappa_score``
  (quadratic weights as well for ordinal codes with more than two levels);
* Fleiss' kappa (units every coder coded): ``statsmodels.stats.inter_rater.fleiss_kappa``;
* Krippendorff's alpha, nominal and ordinal (every unit with at least two codings;
  missing codings are part of the method): the ``krippendorff`` package.

Confidence intervals resample units with replacement (seeded). Every statistic here is a
function of per-unit counts summed over units, so a bootstrap replicate is a vector of
unit weights (how often each unit was drawn) and all ``B`` replicates are one matrix
product: :func:`replicates` computes them all at once. Its value at weight 1 for every
unit is the plain statistic, which the tests check against the libraries above.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from attunement.errors import missing_extra

Kind = Literal["binary", "nominal", "ordinal"]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Ratings:
    """One code's ratings: ``values[u, c]`` is the category index coder ``c`` gave unit
    ``u`` (``nan``: not coded); ``labels[i]`` names category ``i`` (in order if ordinal)."""

    code: str
    kind: Kind
    coders: list[str]
    labels: list[str]
    values: FloatArray


def counts(values: FloatArray, n_labels: int) -> FloatArray:
    """``units × categories`` matrix: how many coders put each unit in each category."""
    out = np.zeros((values.shape[0], n_labels))
    for v in range(n_labels):
        out[:, v] = (values == v).sum(axis=1)
    return out


# --- point estimates (libraries) -------------------------------------------------------


def cohen_kappa(a: Any, b: Any, weights: str | None = None) -> float | None:
    """Cohen's kappa of two equal-length codings (sklearn); None when undefined (one
    category only: chance agreement is 1)."""
    from sklearn.metrics import cohen_kappa_score

    a, b = list(a), list(b)
    if not a or len(set(a) | set(b)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        k = float(cohen_kappa_score(a, b, weights=weights))
    return None if np.isnan(k) else k


def fleiss_kappa(table: FloatArray) -> float | None:
    """Fleiss' kappa of a ``units × categories`` count table (every row the same number
    of coders) with statsmodels; None when undefined."""
    try:
        fk = importlib.import_module("statsmodels.stats.inter_rater").fleiss_kappa
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_extra("statsmodels", "research") from None
    if table.shape[0] == 0 or (table.sum(axis=0) > 0).sum() < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        k = float(fk(table, method="fleiss"))
    return None if np.isnan(k) else k


def krippendorff_alpha(
    values: FloatArray, n_labels: int, level: Literal["nominal", "ordinal"]
) -> float | None:
    """Krippendorff's alpha (``krippendorff`` package) of ``units × coders`` values;
    None when fewer than two categories occur or no unit has two codings."""
    try:
        import krippendorff
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_extra("krippendorff", "research") from None
    pairable = (~np.isnan(values)).sum(axis=1) >= 2
    if pairable.sum() == 0 or len(np.unique(values[pairable][~np.isnan(values[pairable])])) < 2:
        return None
    return float(
        krippendorff.alpha(
            reliability_data=values[pairable].T,
            value_domain=list(range(n_labels)),
            level_of_measurement=level,
        )
    )


# --- replicates (vectorized: one row of weights per replicate) -------------------------


def pairs_onehot(a: FloatArray, b: FloatArray, v: int) -> FloatArray:
    """Per-unit one-hot of the (a, b) cell of a ``v × v`` confusion matrix."""
    out = np.zeros((a.shape[0], v * v))
    out[np.arange(a.shape[0]), (a * v + b).astype(np.int64)] = 1.0
    return out


def kappa_replicates(onehot: FloatArray, w: FloatArray, v: int, weighted: bool) -> FloatArray:
    """Cohen's kappa (optionally quadratic-weighted) for each row of unit weights ``w``."""
    conf = (w @ onehot).reshape(-1, v, v)
    n = conf.sum(axis=(1, 2))
    expected = conf.sum(axis=2)[:, :, None] * conf.sum(axis=1)[:, None, :] / n[:, None, None]
    i, j = np.indices((v, v))
    dis = ((i - j) ** 2 if weighted else (i != j)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = 1.0 - (conf * dis).sum(axis=(1, 2)) / (expected * dis).sum(axis=(1, 2))
    return out


def fleiss_replicates(table: FloatArray, w: FloatArray) -> FloatArray:
    """Fleiss' kappa for each row of unit weights (``table``: units × categories)."""
    m = table.sum(axis=1)[0]
    p_unit = ((table**2).sum(axis=1) - m) / (m * (m - 1))
    total = w.sum(axis=1)
    p_bar = (w @ p_unit) / total
    p_cat = (w @ table) / (total[:, None] * m)
    p_e = (p_cat**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = (p_bar - p_e) / (1.0 - p_e)
    return out


def alpha_replicates(table: FloatArray, w: FloatArray, level: str) -> FloatArray:
    """Krippendorff's alpha for each row of unit weights, from the coincidence matrix
    (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"); ``table`` holds the
    pairable units' category counts."""
    v = table.shape[1]
    m = table.sum(axis=1)
    per_unit = (table[:, :, None] * table[:, None, :] - np.eye(v)[None] * table[:, :, None]) / (
        m - 1
    )[:, None, None]
    coinc = (w @ per_unit.reshape(len(table), v * v)).reshape(-1, v, v)
    n_c = coinc.sum(axis=2)
    n = n_c.sum(axis=1)
    if level == "nominal":
        delta = np.broadcast_to((1.0 - np.eye(v))[None], coinc.shape)
    else:  # ordinal: squared rank distance on the observed marginals
        cum = np.cumsum(n_c, axis=1)
        lo = np.minimum.outer(np.arange(v), np.arange(v))
        hi = np.maximum.outer(np.arange(v), np.arange(v))
        between = cum[:, hi] - np.where(lo > 0, cum[:, np.maximum(lo - 1, 0)], 0.0)
        delta = (between - (n_c[:, lo] + n_c[:, hi]) / 2.0) ** 2
    d_o = (coinc * delta).sum(axis=(1, 2))
    d_e = (n_c[:, :, None] * n_c[:, None, :] * delta).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = 1.0 - (n - 1.0) * d_o / d_e
    return out


def agreement_replicates(table: FloatArray, w: FloatArray) -> FloatArray:
    """Mean pairwise percent agreement per unit, for each row of unit weights."""
    m = table.sum(axis=1)
    per_unit = (table * (table - 1)).sum(axis=1) / (m * (m - 1))
    out: FloatArray = (w @ per_unit) / w.sum(axis=1)
    return out


def positive_replicates(table: FloatArray, w: FloatArray) -> FloatArray:
    """Specific positive agreement (binary codes; Uebersax 1982): of the coders who said
    "present" on a unit, how often another coder of that unit said so too."""
    m = table.sum(axis=1)
    pos = table[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = (w @ (pos * (pos - 1))) / (w @ (pos * (m - 1)))
    return out


#: at most this many unit weights in memory at once (8 bytes each: 32 MB)
BLOCK_CELLS = 4_000_000


def weights(n: int, b: int, seed: int) -> FloatArray:
    """``b`` bootstrap replicates of ``n`` units as draw counts (``b × n``)."""
    return np.concatenate(list(weight_blocks(n, b, seed))) if b else np.zeros((0, n))


def weight_blocks(n: int, b: int, seed: int) -> Iterator[FloatArray]:
    """The same ``b`` replicates as :func:`weights`, in blocks of at most
    :data:`BLOCK_CELLS` cells: resampling ``n`` units with replacement, each row holds
    how often each unit was drawn."""
    rng = np.random.default_rng(seed)
    step = max(1, BLOCK_CELLS // max(n, 1))
    for start in range(0, b, step):
        k = min(step, b - start)
        yield rng.multinomial(n, np.full(n, 1.0 / n), size=k).astype(float)


def interval(reps: FloatArray, level: float) -> tuple[float, float] | None:
    """Percentile interval of the finite replicates; None when fewer than 20 are."""
    ok = reps[np.isfinite(reps)]
    if ok.size < 20:
        return None
    lo, hi = np.quantile(ok, [(1 - level) / 2, 1 - (1 - level) / 2])
    return (round(float(lo), 4), round(float(hi), 4))
