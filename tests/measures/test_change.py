"""Reliable change, clinically significant change and sudden gains, on hand-worked examples.

Each expected number below is worked out by hand in the comment next to it.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.measures.change import (
    change,
    criterion_c,
    rci,
    rci_matrix,
    se_diff,
    sudden_shift_masks,
    sudden_shifts,
    sudden_shifts_loop,
)
from attunement.measures.instruments import get_instrument

PHQ = get_instrument("phq9")


def test_se_diff_and_rci_generic_example() -> None:
    # SD 7.5, r .80: SE_diff = 7.5 · √2 · √0.2 = 7.5 · 1.414214 · 0.447214 = 4.743416
    assert se_diff(7.5, 0.80) == pytest.approx(4.743416, abs=1e-6)
    # pre 30, post 18: RCI = −12 / 4.743416 = −2.529822 → reliable (|RCI| > 1.96)
    assert rci(30, 18, 7.5, 0.80) == pytest.approx(-2.529822, abs=1e-6)


def test_phq9_reliable_change_threshold_is_about_six_points() -> None:
    # SD 5.7, r .84: SE_diff = 5.7 · 1.414214 · 0.4 = 3.224407; 1.96 · 3.224407 = 6.32
    assert se_diff(5.7, 0.84) == pytest.approx(3.224407, abs=1e-6)
    assert 1.96 * se_diff(5.7, 0.84) == pytest.approx(6.32, abs=0.01)


def test_phq9_recovered_when_reliable_and_crossing_the_cutoff() -> None:
    # 16 → 9: RCI = −7 / 3.224407 = −2.17 → improved; 16 ≥ 10 > 9 → crossed → recovered
    c = change(PHQ, 16, 9)
    assert c.rci == pytest.approx(-2.171, abs=1e-3)
    assert c.status == "improved" and c.crossed_cutoff and c.category == "recovered"
    assert c.cutoff_kind == "published_cutoff"


def test_phq9_not_reliable_but_crossing() -> None:
    # 12 → 8: RCI = −4 / 3.224407 = −1.24 → unchanged although it crosses 10
    c = change(PHQ, 12, 8)
    assert c.status == "unchanged" and c.crossed_cutoff and c.category == "unchanged"


def test_phq9_deterioration() -> None:
    # 5 → 14: RCI = 9 / 3.224407 = 2.79 → deteriorated
    c = change(PHQ, 5, 14)
    assert c.status == "deteriorated" and c.category == "deteriorated"


def test_criterion_c_hand_calculation() -> None:
    # c = (SD0·M1 + SD1·M0)/(SD0 + SD1) with M0 2.91, SD0 3.52 (functional), M1 14.5, SD1 5.7:
    # (3.52·14.5 + 5.7·2.91) / 9.22 = (51.04 + 16.587) / 9.22 = 7.334816
    assert criterion_c(2.91, 3.52, 14.5, 5.7) == pytest.approx(7.334816, abs=1e-6)


def test_rci_matrix_matches_scalar() -> None:
    x = np.array([[16.0, 12.0, 9.0], [5.0, 5.0, 14.0]])
    m = rci_matrix(x, 5.7, 0.84)
    assert m[0, 2] == pytest.approx(rci(16, 9, 5.7, 0.84))
    assert m[1, 0] == 0.0


def test_tang_derubeis_sudden_gain_worked_example() -> None:
    # 18 → 10 between administrations 3 and 4 (indices 2, 3):
    # (1) 8 ≥ 6; (2) 8 / 18 = 44 % ≥ 25 %; (3) pre 20, 19, 18 (mean 19, SS 2),
    # post 10, 9, 9 (mean 9.333, SS 0.667): pooled var 2.667 / 4 = 0.667,
    # SE = √(0.667 · (1/3 + 1/3)) = 0.667, t = 9.667 / 0.667 = 14.5 > 2.776
    shifts = sudden_shifts([20, 19, 18, 10, 9, 9, 8], threshold=6)
    assert [(s.kind, s.pre_index, s.post_index) for s in shifts] == [("gain", 2, 3)]
    assert shifts[0].t == pytest.approx(14.5, abs=1e-6)


def test_unstable_drop_is_not_a_sudden_gain() -> None:
    # 22 → 12 passes (1) and (2) but the scores around it swing (20, 8, 22 | 12, 20, 9):
    # means 16.67 vs 13.67, pooled SD ≈ 6.4 → t ≈ 0.57 < 2.776
    assert sudden_shifts([20, 8, 22, 12, 20, 9, 21], threshold=6) == []


def test_two_and_two_sessions_use_df2_critical_value() -> None:
    # 17 → 9 with pre (18, 17) and post (9, 8): SS 0.5 + 0.5, pooled var 0.5,
    # SE = √(0.5 · 1) = 0.7071, t = 9 / 0.7071 = 12.73 > 4.303 (df 2)
    shifts = sudden_shifts([18, 17, 9, 8], threshold=6)
    assert [(s.kind, s.pre_index) for s in shifts] == [("gain", 1)]
    assert shifts[0].t == pytest.approx(9 / math.sqrt(0.5), abs=1e-6)


def test_first_interval_cannot_be_tested() -> None:
    # only one score before the drop: criterion (3) untestable → nothing reported
    assert sudden_shifts([20, 8, 8, 7, 8], threshold=6) == []


def test_sudden_loss_is_the_mirror_image() -> None:
    shifts = sudden_shifts([8, 9, 8, 16, 17, 16], threshold=6)
    assert [(s.kind, s.pre_index) for s in shifts] == [("loss", 2)]


def test_higher_is_better_flips_gain_and_loss() -> None:
    shifts = sudden_shifts([3, 3, 4, 9, 9, 10], threshold=2, higher_is="better")
    assert [s.kind for s in shifts] == ["gain"]


@settings(max_examples=150)
@given(
    st.lists(st.integers(0, 27), min_size=0, max_size=14),
    st.sampled_from([3.0, 6.0]),
    st.sampled_from(["worse", "better"]),
)
def test_vectorized_equals_plain_python_reference(
    scores: list[int], threshold: float, direction: str
) -> None:
    series = [float(s) for s in scores]
    fast = [(s.kind, s.pre_index) for s in sudden_shifts(series, threshold, direction)]  # type: ignore[arg-type]
    slow = sudden_shifts_loop(series, threshold, direction)  # type: ignore[arg-type]
    assert fast == slow


def test_masks_handle_missing_administrations() -> None:
    x = np.array([[20, 19, 18, 10, 9, np.nan, 8]], dtype=float)
    gains, losses, _ = sudden_shift_masks(x, 6)
    assert gains[0, 2] == 1.0 and losses.sum() == 0
