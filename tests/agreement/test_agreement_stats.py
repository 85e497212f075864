"""Each statistic against a published worked example, and the vectorized bootstrap
replicates against the libraries (sklearn, statsmodels, krippendorff, pingouin)."""

from __future__ import annotations

import numpy as np
import pytest

from attunement.agreement import stats
from attunement.agreement.compute import code_agreement, icc_replicates, session_icc
from attunement.agreement.stats import Ratings

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1-5, with missing data. Published: nominal .743, ordinal .815.
KRIPPENDORFF_2011 = (
    np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
            [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
        ]
    ).T
    - 1
)  # units × coders, categories 0..4

# The worked example of the Wikipedia article "Fleiss' kappa": 10 subjects, 14 raters,
# 5 categories; P-bar 0.378, P-bar-e 0.213, kappa 0.210.
FLEISS_TABLE = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ],
    dtype=float,
)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges. Published ICC(1,1) .17,
# ICC(2,1) .29, ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def _cohen_example() -> tuple[np.ndarray, np.ndarray]:
    """Wikipedia "Cohen's kappa", worked example: 50 grant proposals read by A and B;
    yes/yes 20, yes/no 5, no/yes 10, no/no 15; p_o 0.7, p_e 0.5, kappa 0.4."""
    a = np.array([1] * 20 + [1] * 5 + [0] * 10 + [0] * 15)
    b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15)
    return a, b


def test_krippendorff_alpha_matches_the_published_example() -> None:
    pair = (~np.isnan(KRIPPENDORFF_2011)).sum(axis=1) >= 2
    table = stats.counts(KRIPPENDORFF_2011[pair], 5)
    ones = np.ones((1, len(table)))
    nominal = stats.krippendorff_alpha(KRIPPENDORFF_2011, 5, "nominal")
    ordinal = stats.krippendorff_alpha(KRIPPENDORFF_2011, 5, "ordinal")
    assert nominal == pytest.approx(0.743, abs=5e-4)
    assert ordinal == pytest.approx(0.815, abs=5e-4)
    assert stats.alpha_replicates(table, ones, "nominal")[0] == pytest.approx(nominal, abs=1e-12)
    assert stats.alpha_replicates(table, ones, "ordinal")[0] == pytest.approx(ordinal, abs=1e-12)


def test_fleiss_kappa_matches_the_worked_example() -> None:
    k = stats.fleiss_kappa(FLEISS_TABLE)
    assert k == pytest.approx(0.210, abs=5e-4)
    assert stats.fleiss_replicates(FLEISS_TABLE, np.ones((1, 10)))[0] == pytest.approx(k)


def test_cohen_kappa_matches_the_worked_example_and_sklearn() -> None:
    a, b = _cohen_example()
    k = stats.cohen_kappa(a, b)
    assert k == pytest.approx(0.4)
    onehot = stats.pairs_onehot(a.astype(float), b.astype(float), 2)
    assert stats.kappa_replicates(onehot, np.ones((1, 50)), 2, False)[0] == pytest.approx(0.4)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, 300)
    y = np.where(rng.random(300) < 0.6, x, rng.integers(0, 3, 300))
    oh = stats.pairs_onehot(x.astype(float), y.astype(float), 3)
    quad = stats.kappa_replicates(oh, np.ones((1, 300)), 3, True)[0]
    assert quad == pytest.approx(stats.cohen_kappa(x, y, weights="quadratic"))
    assert stats.cohen_kappa([1, 1, 1], [1, 1, 1]) is None  # one category: undefined


def test_icc_matches_shrout_and_fleiss_and_pingouin() -> None:
    r = session_icc("scale", list("abcd"), SHROUT_FLEISS, boot=0)
    published = {"icc1": 0.17, "icc2_1": 0.29, "icc3_1": 0.71}
    published |= {"icc1_k": 0.44, "icc2_k": 0.62, "icc3_k": 0.91}
    for name, value in published.items():
        assert r[name] == pytest.approx(value, abs=0.006), name
    reps = icc_replicates(SHROUT_FLEISS, np.ones((1, 6)))
    assert reps["icc2_1"][0] == pytest.approx(r["icc2_1"], abs=1e-4)
    assert reps["icc3_1"][0] == pytest.approx(r["icc3_1"], abs=1e-4)


def test_one_replicate_equals_the_library_on_the_resampled_units() -> None:
    """A weight row is a resample: materialize it and ask the libraries."""
    rng = np.random.default_rng(11)
    n = 40
    truth = rng.integers(0, 3, n)
    vals = np.stack(
        [np.where(rng.random(n) < 0.7, truth, rng.integers(0, 3, n)) for _ in range(3)], axis=1
    ).astype(float)
    vals[rng.random((n, 3)) < 0.1] = NAN
    w = stats.weights(n, 5, seed=1)
    for row in w:
        draw = np.repeat(np.arange(n), row.astype(int))
        sample = vals[draw]
        pair = (~np.isnan(sample)).sum(axis=1) >= 2
        t_all = stats.counts(vals, 3)
        keep = (~np.isnan(vals)).sum(axis=1) >= 2
        for level in ("nominal", "ordinal"):
            got = stats.alpha_replicates(t_all[keep], row[None, keep], level)[0]
            want = stats.krippendorff_alpha(sample[pair], 3, level)
            assert got == pytest.approx(want), level
        full = ~np.isnan(vals).any(axis=1)
        got = stats.fleiss_replicates(t_all[full], row[None, full])[0]
        want = stats.fleiss_kappa(stats.counts(vals[draw][~np.isnan(vals[draw]).any(axis=1)], 3))
        assert got == pytest.approx(want)
        both = ~np.isnan(vals[:, :2]).any(axis=1)
        oh = stats.pairs_onehot(vals[both, 0], vals[both, 1], 3)
        got = stats.kappa_replicates(oh, row[None, both], 3, False)[0]
        s = sample[~np.isnan(sample[:, :2]).any(axis=1)]
        assert got == pytest.approx(stats.cohen_kappa(s[:, 0].astype(int), s[:, 1].astype(int)))


def test_code_agreement_two_coders_with_missing_codings() -> None:
    a, b = _cohen_example()
    vals = np.stack([a, b], axis=1).astype(float)
    vals = np.vstack([vals, [[1, NAN], [NAN, 0]]])  # two units coded once: not pairable
    r = code_agreement(Ratings("X", "binary", ["A", "B"], ["0", "1"], vals), boot=500, seed=2)
    assert (r["n_units"], r["n_pairable"], r["n_both"]) == (52, 50, 50)
    assert r["cohen_kappa"] == pytest.approx(0.4)
    assert r["percent_agreement"] == pytest.approx(0.7)
    assert r["positive_agreement"] == pytest.approx(2 * 20 / (2 * 20 + 5 + 10), abs=1e-4)
    lo, hi = r["cohen_kappa_ci"]
    assert lo < 0.4 < hi and hi - lo < 0.7
    assert r["alpha_nominal"] == pytest.approx(stats.krippendorff_alpha(vals, 2, "nominal"), 1e-3)
    again = code_agreement(Ratings("X", "binary", ["A", "B"], ["0", "1"], vals), 500, seed=2)
    other = code_agreement(Ratings("X", "binary", ["A", "B"], ["0", "1"], vals), 500, seed=3)
    assert again["cohen_kappa_ci"] == r["cohen_kappa_ci"]
    assert other["cohen_kappa_ci"] != r["cohen_kappa_ci"]


def test_code_agreement_many_coders_ordinal() -> None:
    r = code_agreement(
        Ratings("X", "ordinal", list("ABCD"), list("12345"), KRIPPENDORFF_2011), boot=300
    )
    assert r["alpha_ordinal"] == pytest.approx(0.815, abs=5e-4)
    assert r["n_complete"] == 8 and r["n_pairable"] == 11
    assert set(r["pairwise_kappa"]) == {"A|B", "A|C", "A|D", "B|C", "B|D", "C|D"}
    assert r["fleiss_kappa"] is not None and r["fleiss_kappa_ci"] is not None
    assert "cohen_kappa" not in r


def test_bootstrap_in_blocks_equals_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    vals = KRIPPENDORFF_2011
    whole = code_agreement(Ratings("X", "ordinal", list("ABCD"), list("12345"), vals), 400)
    monkeypatch.setattr(stats, "BLOCK_CELLS", 50)  # 4 replicates of 11 units per block
    assert len(list(stats.weight_blocks(11, 400, 0))) == 100
    blocked = code_agreement(Ratings("X", "ordinal", list("ABCD"), list("12345"), vals), 400)
    assert blocked == whole
