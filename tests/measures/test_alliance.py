"""Alliance rupture–repair (V-shaped) sequences, scalar and vectorized."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.measures.alliance import sequence_matrix, sequences, slope, slope_matrix


def test_v_shape_with_enhanced_recovery() -> None:
    # series SD: values 8,8,8,8,3,6,10 → mean 7.286, SD 2.215 (ddof 1)
    # session index 4: running mean 8.0; 3 ≤ 8 − 2.215 (k=1) and ≤ 8 − 4.43 (k=2)
    # recovery at index 6: 10 ≥ 8 and ≥ 8 + 0.5 · 2.215 → enhanced
    series = [8, 8, 8, 8, 3, 6, 10]
    for k in (1, 2):
        (s,) = sequences(series, k)
        assert (s.drop_index, s.recovery_index, s.outcome) == (4, 6, "enhanced")
        assert s.pre_level == 8.0 and s.low_score == 3
        assert s.depth_sd == pytest.approx(5 / np.std(series, ddof=1), abs=1e-3)


def test_shallow_drop_counts_for_k1_only() -> None:
    # SD of 8,8,9,8,7,9,9 is 0.756; index 4: running mean 8.25, 8.25 − 7 = 1.25 → ≥ 1 SD
    # (0.756) but < 2 SD (1.512); index 5: 9 ≥ 8.25 + 0.5 · 0.756 = 8.628 → enhanced
    series = [8, 8, 9, 8, 7, 9, 9]
    assert [(s.drop_index, s.outcome) for s in sequences(series, 1)] == [(4, "enhanced")]
    assert sequences(series, 2) == []


def test_drop_below_running_mean_not_recovered_is_unrepaired() -> None:
    # SD of 8,8,9,8,6,8,8 is 0.900; index 4: 8.25 − 6 = 2.25 ≥ 2 SD; the later 8s stay
    # below the pre-drop level 8.25 → unrepaired for k = 1 and k = 2
    series = [8, 8, 9, 8, 6, 8, 8]
    for k in (1, 2):
        assert [s.outcome for s in sequences(series, k)] == ["unrepaired"]


def test_unrepaired_drop() -> None:
    (s,) = sequences([9, 9, 9, 4, 5, 5], 1)
    assert s.outcome == "unrepaired" and s.recovery_index is None


def test_flat_series_has_no_sequences() -> None:
    assert sequences([7, 7, 7, 7], 1) == []


@settings(max_examples=120)
@given(st.lists(st.integers(0, 10), min_size=0, max_size=20), st.sampled_from([1.0, 2.0]))
def test_matrix_counts_match_scalar(series: list[int], k: float) -> None:
    seqs = sequences([float(v) for v in series], k)
    if len(series) < 3:
        return
    m = sequence_matrix(np.array([series], dtype=float), k)
    assert m["drops"][0] == len(seqs)
    assert m["enhanced"][0] == sum(s.outcome == "enhanced" for s in seqs)
    assert m["repaired"][0] == sum(s.outcome == "repaired" for s in seqs)
    assert m["unrepaired"][0] == sum(s.outcome == "unrepaired" for s in seqs)


def test_slope() -> None:
    assert slope([8, 7, 6, 5]) == pytest.approx(-1.0)
    assert slope([1, 2]) is None
    x = np.array([[8, 7, 6, 5], [1, 1, 1, 1]], dtype=float)
    assert slope_matrix(x).tolist() == pytest.approx([-1.0, 0.0])
