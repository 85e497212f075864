"""The numpy metrics agree with scikit-learn on random data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from attunement.coding.metrics import (
    average_precision,
    best_threshold,
    binary_scores,
    multiclass_scores,
)


@pytest.mark.parametrize("seed", range(5))
def test_multiclass_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    gold = rng.integers(0, k, 200)
    pred = np.where(rng.random(200) < 0.6, gold, rng.integers(0, k, 200))
    ours = multiclass_scores(gold, pred, [str(i) for i in range(k)])
    labels = list(range(k))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    assert ours["macro_f1"] == pytest.approx(f1_score(gold, pred, labels=labels, average="macro"))
    assert ours["kappa"] == pytest.approx(cohen_kappa_score(gold, pred))
    assert ours["confusion"] == confusion_matrix(gold, pred, labels=labels).tolist()
    for i in range(k):
        cls = ours["per_class"][str(i)]
        assert (cls["precision"], cls["recall"], cls["f1"], cls["support"]) == pytest.approx(
            (p[i], r[i], f[i], s[i])
        )


@pytest.mark.parametrize("seed", range(5))
def test_binary_and_average_precision_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gold = rng.random(300) < 0.2
    score = np.round(rng.random(300) + gold * 0.3, 2)  # rounding creates ties
    pred = score > 0.6
    ours = binary_scores(gold, pred)
    assert ours["f1"] == pytest.approx(f1_score(gold, pred))
    assert ours["kappa"] == pytest.approx(cohen_kappa_score(gold, pred))
    assert ours["support"] == int(gold.sum())
    assert average_precision(gold, score) == pytest.approx(average_precision_score(gold, score))


def test_edge_cases() -> None:
    assert binary_scores([False, False], [False, False])["f1"] == 0.0
    assert multiclass_scores([0, 1], [0, 1], ["a", "b", "c"])["macro_f1"] == pytest.approx(2 / 3)
    assert average_precision([False, False], [0.1, 0.9]) == 0.0
    assert best_threshold(np.array([False, False]), np.array([0.2, 0.9])) == 0.5
    t = best_threshold(np.array([True, True, False, False]), np.array([0.3, 0.35, 0.1, 0.2]))
    assert 0.2 <= t <= 0.3
