"""Agreement metrics in pure numpy (checked against scikit-learn in the tests).

Kept free of sklearn so that ``attune evaluate`` and the analyze path start fast, and so
the definitions are visible: precision/recall/F1 per label, macro-F1 (unweighted mean over
labels, including labels with no support), Cohen's kappa, confusion matrices, and average
precision for threshold-free model selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def confusion(gold: Sequence[int] | IntArray, pred: Sequence[int] | IntArray, k: int) -> IntArray:
    """``k×k`` matrix: rows gold, columns predicted."""
    g, p = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (g, p), 1)
    return m


def prf_from_confusion(m: IntArray) -> tuple[np.ndarray, np.ndarray, np.ndarray, IntArray]:
    """Per-class precision, recall, F1 (0 where undefined, as sklearn's zero_division=0)."""
    tp = np.diag(m).astype(float)
    pred_n = m.sum(axis=0).astype(float)
    gold_n = m.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(pred_n > 0, tp / pred_n, 0.0)
        rec = np.where(gold_n > 0, tp / gold_n, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    return prec, rec, f1, gold_n


def kappa(m: IntArray) -> float:
    """Cohen's kappa from a confusion matrix (1.0 for perfect, 0 for chance)."""
    n = m.sum()
    if n == 0:
        return 0.0
    po = np.trace(m) / n
    pe = float((m.sum(axis=0) * m.sum(axis=1)).sum()) / float(n * n)
    return float((po - pe) / (1 - pe)) if pe < 1 else 1.0 if po == 1 else 0.0


def binary_scores(
    gold: Sequence[bool] | np.ndarray, pred: Sequence[bool] | np.ndarray
) -> dict[str, float]:
    """Precision, recall, F1 of the positive class, kappa and support for one binary code."""
    m = confusion(np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64), 2)
    prec, rec, f1, support = prf_from_confusion(m)
    return {
        "precision": float(prec[1]),
        "recall": float(rec[1]),
        "f1": float(f1[1]),
        "kappa": kappa(m),
        "support": int(support[1]),
        "n": int(m.sum()),
    }


def multiclass_scores(
    gold: Sequence[int] | IntArray, pred: Sequence[int] | IntArray, labels: Sequence[str]
) -> dict[str, Any]:
    """Per-class P/R/F1/support, macro-F1, accuracy, kappa and the confusion matrix."""
    m = confusion(gold, pred, len(labels))
    prec, rec, f1, support = prf_from_confusion(m)
    n = int(m.sum())
    return {
        "labels": list(labels),
        "per_class": {
            lab: {
                "precision": float(prec[i]),
                "recall": float(rec[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, lab in enumerate(labels)
        },
        "macro_f1": float(f1.mean()) if len(labels) else 0.0,
        "accuracy": float(np.trace(m) / n) if n else 0.0,
        "kappa": kappa(m),
        "confusion": m.tolist(),
        "n": n,
    }


def average_precision(
    gold: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray
) -> float:
    """Area under the precision-recall curve (step-wise, like sklearn's)."""
    y = np.asarray(gold, dtype=bool)
    s = np.asarray(score, dtype=float)
    if y.sum() == 0:
        return 0.0
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    # group ties: evaluate only at the last index of each distinct score
    distinct = np.r_[np.where(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    prec = tps / (tps + fps)
    rec = tps / y.sum()
    rec_prev = np.r_[0.0, rec[:-1]]
    return float(np.sum((rec - rec_prev) * prec))


def fbeta(precision: float, recall: float, beta: float) -> float:
    """F-beta: beta < 1 weighs precision more (0.5: a flag should rather be right)."""
    b2 = beta * beta
    den = b2 * precision + recall
    return 0.0 if den <= 0 else (1 + b2) * precision * recall / den


def best_threshold(
    gold: np.ndarray, prob: np.ndarray, lo: float = 0.05, hi: float = 0.95, beta: float = 1.0
) -> float:
    """The probability cut that maximizes F-beta (ties → nearest 0.5); 0.5 with no positives."""
    y = np.asarray(gold, dtype=bool)
    if y.sum() == 0:
        return 0.5
    best, best_t = -1.0, 0.5
    for t in np.round(np.arange(lo, hi + 1e-9, 0.025), 3):
        sc = binary_scores(y, prob >= t)
        f1 = fbeta(sc["precision"], sc["recall"], beta)
        if f1 > best + 1e-12 or (abs(f1 - best) <= 1e-12 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = f1, float(t)
    return best_t
