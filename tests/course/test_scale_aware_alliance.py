"""The course engine's alliance rules read each instrument's own scale (``[alliance]``).

The SRS (0–40, weak below 36, no strong level) feeds the same rules as the 0–10 alliance
check; the check's own numbers (6 and 8) and wording are unchanged.
"""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from attunement.course import ClientContext, ClientInputs, compute_course, run_course
from attunement.course.alerts import context_factors
from attunement.course.folder import load_client_folder
from attunement.course.model import CourseEpisode
from attunement.course.records import AllianceScale
from attunement.errors import SchemaError
from attunement.measures.instruments import (
    LEGACY_ALLIANCE,
    AllianceLevels,
    Norms,
    bundled_instruments,
    load_instrument,
)
from attunement.measures.responses import Administration

DAY = dt.date(2026, 3, 2)
YEAR_AGO = DAY - dt.timedelta(days=365)
CHECK_ITEMS = ("heard", "goals", "approach", "fit")


def srs(session: int, *marks: float) -> Administration:
    return Administration(
        session=session,
        date=DAY + dt.timedelta(weeks=session - 1),
        instrument="srs",
        answers={f"srs_{i}": v for i, v in enumerate(marks, start=1)},
    )


def check(session: int, value: float) -> Administration:
    return Administration(
        session=session,
        date=DAY + dt.timedelta(weeks=session - 1),
        instrument="alliance_check",
        answers=dict.fromkeys(CHECK_ITEMS, value),
    )


def course_of(admins: list[Administration], **context: object):  # type: ignore[no-untyped-def]
    inputs = ClientInputs(
        folder=Path("client"),
        # in treatment for a year: the "alliance is new" factor does not apply
        context=ClientContext(client_id="c1", **{"treatment_start": YEAR_AGO, **context}),  # type: ignore[arg-type]
        instruments=dict(bundled_instruments()),
        administrations=admins,
    )
    return compute_course(inputs)


def test_srs_is_an_alliance_instrument_with_its_own_levels() -> None:
    inst = bundled_instruments()["srs"]
    assert inst.role == "alliance" and inst.score_range == (0.0, 40.0)
    levels = inst.alliance_levels()
    assert levels is not None and levels.weak_below == 36 and levels.strong_from is None
    assert "Duncan" in levels.source
    assert bundled_instruments()["alliance_check"].alliance_levels() == LEGACY_ALLIANCE
    assert (LEGACY_ALLIANCE.weak_below, LEGACY_ALLIANCE.strong_from) == (6.0, 8.0)
    # no level is assumed on an outcome scale or an undescribed range
    assert bundled_instruments()["phq9"].alliance_levels() is None


def test_srs_38_to_33_raises_the_alliance_alert_with_evidence() -> None:
    course = course_of([srs(1, 9.5, 9.5, 9.5, 9.5), srs(2, 8, 8.5, 8, 8.5)])
    assert [r.alliance for r in course.sessions] == [38.0, 33.0]
    (alert,) = [a for a in course.alerts if a.kind == "alliance"]
    assert alert.text == "SRS below 36 at session 2: 33 (down from 38 at session 1)."
    assert alert.reasons[:2] == [
        f"SRS 38 at session 1 ({DAY})",
        f"SRS 33 at session 2 ({DAY + dt.timedelta(weeks=1)})",
    ]
    assert alert.reasons[2].startswith("below 36: Duncan et al. 2003")
    assert alert.session == 2 and alert.priority == alert.base_priority == "medium"
    assert "R_INVITE" in alert.suggested_moves


def test_the_alliance_alert_is_weighed_by_context_and_gone_once_back_above() -> None:
    weighed = course_of(
        [srs(1, 9.5, 9.5, 9.5, 9.5), srs(2, 8, 8.5, 8, 8.5)],
        history_neglect_or_abuse=True,
        treatment_start=DAY,
    )
    (alert,) = [a for a in weighed.alerts if a.kind == "alliance"]
    assert alert.base_priority == "medium" and alert.priority == "high"
    assert "clinician recorded a history of neglect or abuse" in alert.context
    back = course_of([srs(1, 9.5, 9.5, 9.5, 9.5), srs(2, 8, 8.5, 8, 8.5), srs(3, 9, 9, 9, 9)])
    assert not [a for a in back.alerts if a.kind == "alliance"]
    # a run below the cutoff is reported from its first session
    run = course_of([srs(1, 9.5, 9.5, 9.5, 9.5), srs(2, 8, 8.5, 8, 8.5), srs(3, 8, 8, 8, 8)])
    (alert,) = [a for a in run.alerts if a.kind == "alliance"]
    assert alert.text == "SRS below 36 since session 2: 32 (down from 38 at session 1)."
    assert len(alert.reasons) == 4


def test_alliance_check_below_6_raises_no_new_alert() -> None:
    """The check's numbers only weigh episodes, as before: no cutoff alert of its own."""
    course = course_of([check(1, 8), check(2, 4)])
    assert [r.alliance for r in course.sessions] == [8.0, 4.0]
    assert not [a for a in course.alerts if a.kind == "alliance"]


def test_weak_and_strong_wording_per_scale() -> None:
    weak_ep = CourseEpisode(
        id="E1",
        kind="unknown",
        opened_by="alliance_drop",
        state="open",
        start_session=3,
        start_date=DAY,
        pre_alliance=5.0,
    )
    ctx = ClientContext(client_id="c1")
    # the 0–10 check: the same reason as always
    assert (1, "alliance was weak before (5.0/10)") in context_factors(ctx, weak_ep, [], None, 9)
    srs_scale = AllianceScale("srs", "SRS", 0.0, 40.0, bundled_instruments()["srs"].alliance)
    on_srs = weak_ep.model_copy(update={"pre_alliance": 34.0})
    assert (1, "alliance was weak before (34.0 of 40 on the SRS, below 36)") in context_factors(
        ctx, on_srs, [], None, 9, srs_scale
    )
    # 37 of 40 is not weak on the SRS; and with no strong level for the SRS, 39.5 with
    # earlier ruptures repaired never moves an alert down (on the check, 9.0 does)
    assert not [
        f
        for f in context_factors(
            ctx, on_srs.model_copy(update={"pre_alliance": 37.0}), [], None, 9, srs_scale
        )
        if "alliance was" in f[1]
    ]
    repaired = weak_ep.model_copy(update={"state": "resolved"})
    strong = on_srs.model_copy(update={"pre_alliance": 39.5})
    assert not [f for f in context_factors(ctx, strong, [repaired], None, 9, srs_scale) if f[0] < 0]
    on_check = weak_ep.model_copy(update={"pre_alliance": 9.0})
    assert (
        -1,
        "strong alliance before (9.0/10) with earlier ruptures repaired",
    ) in context_factors(ctx, on_check, [repaired], None, 9)


def test_the_same_course_on_a_four_times_larger_scale(client_copy: Callable[..., Path]) -> None:
    """The forgotten-appointment client with the alliance check given as an SRS-shaped
    0–40 instrument (levels 24 and 32 = 6 and 8 × 4, sudden-shift threshold × 4): the
    same episodes, states, dropout score and alert priorities — the rules follow the
    scale, not fixed 0–10 numbers."""
    folder = client_copy("forgotten-appointment")
    base = load_client_folder(folder, transcripts=False)
    plain = compute_course(base)
    wide = bundled_instruments()["srs"].model_copy(
        update={
            "alliance": AllianceLevels(weak_below=24, strong_from=32),
            # the check's sudden-shift threshold (2 points of 10), on the same scale
            "norms": Norms(sudden_gain_threshold=8),
        }
    )
    admins = [
        a
        if a.instrument != "alliance_check"
        else a.model_copy(
            update={
                "instrument": "srs",
                "answers": {f"srs_{i}": a.answers[k] for i, k in enumerate(CHECK_ITEMS, 1)},
            }
        )
        for a in base.administrations
    ]
    scaled = compute_course(
        ClientInputs(
            folder=folder,
            context=base.context,
            instruments={**base.instruments, "srs": wide},
            administrations=admins,
        )
    )
    assert [r.alliance for r in scaled.sessions] == [
        None if r.alliance is None else r.alliance * 4 for r in plain.sessions
    ]
    shape = [(e.id, e.state, e.start_session, e.end_session) for e in plain.episodes]
    assert shape and shape == [
        (e.id, e.state, e.start_session, e.end_session) for e in scaled.episodes
    ]
    assert scaled.dropout.score == plain.dropout.score
    assert [(a.kind, a.priority) for a in scaled.alerts] == [
        (a.kind, a.priority) for a in plain.alerts
    ]
    assert plain.episodes[0].state == "enhanced"  # the essay's ending, on either scale


def test_example_course_keeps_the_alliance_check_numbers(
    client_copy: Callable[..., Path],
) -> None:
    """The therapist-missed alert of the example reads as it always did."""
    course = run_course(client_copy("forgotten-appointment"), transcripts=False)
    (alert,) = [a for a in course.alerts if a.kind == "therapist_failure"]
    assert alert.text.startswith("Alliance check fell from ")
    assert any(r.startswith("alliance check ") for r in alert.reasons)
    assert not [a for a in course.alerts if a.kind == "alliance"]
    assert not [w for w in course.warnings if "several alliance instruments" in w]


def test_mixed_alliance_check_and_srs() -> None:
    """Each instrument is judged on its own scale; the session rules read one series."""
    admins = [check(1, 8), srs(1, 9.5, 9.5, 9.5, 9.5), check(2, 8), srs(2, 8, 8.5, 8, 8.5)]
    admins.append(check(3, 7))
    course = course_of(admins)
    assert [r.alliance for r in course.sessions] == [8.0, 8.0, 7.0]  # the check: given most
    assert any(
        "read Alliance check; SRS is charted and judged against its own levels only" in w
        for w in course.warnings
    )
    assert set(course.trajectories) == {"alliance_check", "srs"}
    (alert,) = [a for a in course.alerts if a.kind == "alliance"]
    assert alert.text.startswith("SRS below 36 at session 2: 33")


def test_alliance_levels_are_checked_against_the_range(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "src/attunement/measures/instruments/srs.toml").read_text(
        encoding="utf-8"
    )
    for bad, field in (
        ("weak_below = 41", "weak_below"),
        ("weak_below = 36\nstrong_from = 30", "strong_from"),
    ):
        path = tmp_path / "srs_bad.toml"
        path.write_text(text.replace("weak_below = 36", bad), encoding="utf-8")
        with pytest.raises(SchemaError, match=field):
            load_instrument(path)


def test_an_srs_drop_opens_an_episode_named_for_the_srs() -> None:
    marks = {1: (9.5,) * 4, 2: (9.8, 9.8, 9.7, 9.7), 3: (9.5,) * 4, 4: (7.5,) * 4}
    course = course_of([srs(n, *v) for n, v in marks.items()])  # 38, 39, 38, 30
    assert [r.alliance for r in course.sessions] == [38.0, 39.0, 38.0, 30.0]
    (ep,) = course.episodes
    assert (ep.opened_by, ep.start_session) == ("alliance_drop", 4)
    assert ep.timeline[0].what == "SRS fell to 30.0 (running mean 38.3)"
    assert ep.pre_alliance == 38.33
    assert "SRS below 36 at session 4: 30 (down from 38 at session 3)." in [
        a.text for a in course.alerts
    ]
