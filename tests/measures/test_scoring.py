"""Scoring: bounds, monotonicity, reverse keys and missing-item rules (property tests)."""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.errors import MeasureError
from attunement.measures.instruments import Instrument, get_instrument, load_instrument
from attunement.measures.scoring import band_index_matrix, score, score_matrix

PHQ = get_instrument("phq9")
GAD = get_instrument("gad7")
ALLIANCE = get_instrument("alliance_check")

REVERSED = """
id = "rev"
name = "Rev"
title = "Reverse-keyed fixture"
version = "1"
higher_is = "better"
license = "test fixture"
[[options]]
value = 1
label = "1"
[[options]]
value = 2
label = "2"
[[options]]
value = 3
label = "3"
[[options]]
value = 4
label = "4"
[[options]]
value = 5
label = "5"
[[items]]
id = "p1"
text = "positive one"
[[items]]
id = "p2"
text = "positive two"
[[items]]
id = "n1"
text = "negative one"
reverse = true
[scoring]
method = "sum"
[scoring.subscales]
positive = ["p1", "p2"]
[missing]
rule = "prorate"
max_missing = 1
"""


@pytest.fixture(scope="module")
def rev(tmp_path_factory: pytest.TempPathFactory) -> Instrument:
    path: Path = tmp_path_factory.mktemp("inst") / "rev.toml"
    path.write_text(REVERSED, encoding="utf-8")
    return load_instrument(path)


def answers_for(inst: Instrument, values: list[float]) -> dict[str, float | str | None]:
    return {i.id: v for i, v in zip(inst.scored_items, values, strict=True)}


phq_answers = st.lists(st.sampled_from([0, 1, 2, 3]), min_size=9, max_size=9)


@given(phq_answers)
def test_phq9_total_within_bounds_and_banded(values: list[int]) -> None:
    s = score(PHQ, answers_for(PHQ, [float(v) for v in values]))
    assert s.total == sum(values)
    assert 0 <= s.total <= 27
    assert s.band is not None
    assert s.above_cutoff == (s.total >= 10)
    assert not s.prorated and s.refused is None


@given(phq_answers, st.integers(0, 8))
def test_raising_one_answer_never_lowers_the_total(values: list[int], idx: int) -> None:
    if values[idx] == 3:
        return
    low = score(PHQ, answers_for(PHQ, [float(v) for v in values])).total
    values[idx] += 1
    high = score(PHQ, answers_for(PHQ, [float(v) for v in values])).total
    assert low is not None and high is not None and high == low + 1


@given(st.lists(st.integers(1, 5), min_size=3, max_size=3))
def test_reverse_keyed_item_scores_as_min_plus_max_minus_value(
    rev: Instrument, v: list[int]
) -> None:
    s = score(rev, {"p1": v[0], "p2": v[1], "n1": v[2]})
    assert s.total == v[0] + v[1] + (6 - v[2])
    assert s.subscales["positive"] == v[0] + v[1]


@settings(max_examples=60)
@given(phq_answers, st.sets(st.integers(0, 8), max_size=9))
def test_phq9_missing_rule(values: list[int], blank: set[int]) -> None:
    answers = {f"phq9_{i + 1}": (None if i in blank else float(v)) for i, v in enumerate(values)}
    s = score(PHQ, answers)
    assert len(s.missing) == len(blank)
    if not blank:
        assert s.total == sum(values) and not s.prorated
    elif len(blank) <= 2:
        answered = [v for i, v in enumerate(values) if i not in blank]
        expected = int(sum(answered) / len(answered) * 9 + 0.5)
        assert s.prorated and s.total == expected
        assert 0 <= s.total <= 27
    else:
        assert s.total is None and s.refused and "allows 2" in s.refused


def test_gad7_refuses_with_two_missing_and_prorates_with_one() -> None:
    one = {f"gad7_{i}": 2 for i in range(1, 7)}
    s = score(GAD, one)
    assert s.prorated and s.total == 14 and s.missing == ["gad7_7"]
    two = {f"gad7_{i}": 2 for i in range(1, 6)}
    assert score(GAD, two).total is None


def test_mean_scoring_with_a_blank_uses_the_answered_items() -> None:
    s = score(ALLIANCE, {"heard": 8, "goals": 6, "approach": 7})
    assert s.total == pytest.approx(7.0) and s.prorated and s.band == "fair"


def test_item9_flag_fires_on_any_endorsement() -> None:
    base = {f"phq9_{i}": 0.0 for i in range(1, 10)}
    assert score(PHQ, base).flags == []
    base["phq9_9"] = 1.0
    assert score(PHQ, base).flags and "item 9" in score(PHQ, base).flags[0]


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"phq9_1": 4.0}, "not a response option"),
        ({"phq9_1": -1.0}, "not a response option"),
        ({"phq9_10": 1.0}, "unknown item"),
        ({"phq9_1": "often"}, "must be a number"),
    ],
)
def test_impossible_answers_raise(answers: dict[str, float | str], message: str) -> None:
    with pytest.raises(MeasureError, match=message):
        score(PHQ, answers)


def test_rupture_check_text_and_conditional_items_do_not_count_as_missing() -> None:
    rc = get_instrument("rupture_check")
    s = score(rc, {"tension": 0.0})
    assert s.total == 0 and not s.missing and s.band == "none"


@settings(max_examples=80)
@given(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, math.nan]), min_size=9, max_size=9))
def test_score_matrix_matches_score(values: list[float]) -> None:
    scalar = score(
        PHQ, {f"phq9_{i + 1}": (None if math.isnan(v) else v) for i, v in enumerate(values)}
    )
    (total,) = score_matrix(PHQ, np.array([values]))
    if scalar.total is None:
        assert math.isnan(total)
    else:
        assert total == scalar.total
        (band,) = band_index_matrix(PHQ, np.array([total]))
        assert PHQ.bands[band].label == scalar.band


def test_score_matrix_reverse_keys(rev: Instrument) -> None:
    (total,) = score_matrix(rev, np.array([[5.0, 4.0, 1.0]]))
    assert total == 5 + 4 + 5
