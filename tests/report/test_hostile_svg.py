"""Charts stay bounded whatever the numbers: axis ticks and per-session positions are
computed, never enumerated over the input's range (issue 8, part A)."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any

import pytest

from attunement.course.model import SessionRecord, Trajectory
from attunement.model import Role, Session, Speaker, Utterance
from attunement.report.client.svg import trajectory_chart
from attunement.report.svg import MAX_TICKS, XScale, timeline_svg


@pytest.mark.parametrize(
    ("timed", "lo", "hi"),
    [
        (True, 0.0, 1e308),
        (True, 0.0, 3.0e7),
        (False, 0.0, 1e12),
        (True, 1e15, 1e15 + 10.0),
        (True, 0.0, math.inf),
        (False, math.nan, 5.0),
    ],
)
def test_ticks_are_bounded_for_any_domain(timed: bool, lo: float, hi: float) -> None:
    t0 = time.perf_counter()
    ticks = XScale(timed, lo, hi, 960).ticks()
    assert time.perf_counter() - t0 < 0.5
    assert len(ticks) <= MAX_TICKS
    assert all(math.isfinite(x) for x, _ in ticks)


def test_ticks_of_an_ordinary_session_are_unchanged() -> None:
    ticks = XScale(True, 0.0, 50 * 60.0, 960).ticks()
    assert [label for _, label in ticks] == [f"{m}:00" for m in range(0, 51, 5)]
    turns = XScale(False, 0.0, 120.0, 960).ticks()
    assert [label for _, label in turns] == [str(n) for n in range(0, 121, 10)]


def test_week_long_session_timeline_renders_quickly() -> None:
    s = Session(
        id="s",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(id="u1", index=0, speaker="T", role=Role.THERAPIST, text="Hi.", start=0.0),
            Utterance(
                id="u2", index=1, speaker="C", role=Role.CLIENT, text="Hi.", start=7 * 86400.0
            ),
        ],
    )
    t0 = time.perf_counter()
    svg = timeline_svg(s)
    assert time.perf_counter() - t0 < 1.0
    assert svg.count('class="tl"') <= MAX_TICKS


def _course(numbers: list[int]) -> Any:
    return SimpleNamespace(
        sessions=[SessionRecord(number=n) for n in numbers], episodes=[], events=[]
    )


def _trajectory() -> Trajectory:
    return Trajectory(
        instrument="X",
        name="X",
        role="client",
        higher_is="worse",
        score_range=(0.0, 27.0),
        bands=[],
        cutoff=None,
        points=[],
    )


def test_client_chart_draws_only_existing_sessions_whatever_their_numbers() -> None:
    t0 = time.perf_counter()
    svg = trajectory_chart(_course([1, 2, 10**9]), _trajectory())
    assert time.perf_counter() - t0 < 1.0  # a table over 1..10**9 never finished
    ticks = [part for part in svg.split("<text") if 'class="tick"' in part and "middle" in part]
    assert len(ticks) == 3
    assert ">1000000000</text>" in svg
