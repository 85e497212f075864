"""Score-only shells: SRS and ORS recorded as four 0–10 scores without item wording, scored
and charted by the same library code as every other instrument."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from attunement.course import ClientContext, ClientInputs, compute_course
from attunement.errors import MeasureError, SchemaError
from attunement.measures import get_instrument, score
from attunement.measures.instruments import _parse
from attunement.measures.responses import Administration, build_administrations
from attunement.measures.scoring import score_matrix

SHELL = """
id = "shell"
name = "Shell"
title = "A shell"
version = "1"
higher_is = "better"
score_only = true
license = "use under your own licence"
[scale]
min = 0
max = 10
step = 0.1
[[items]]
id = "a"
type = "scale"
[[items]]
id = "b"
type = "scale"
[scoring]
method = "sum"
[missing]
rule = "refuse"
max_missing = 0
"""


def _answers(prefix: str, *values: float) -> dict[str, float | str | None]:
    return {f"{prefix}_{n}": v for n, v in enumerate(values, start=1)}


@pytest.mark.parametrize("inst_id", ["srs", "ors"])
def test_shells_hold_no_wording_and_carry_the_licence_note(inst_id: str) -> None:
    inst = get_instrument(inst_id)
    assert inst.score_only
    assert [i.id for i in inst.items] == [f"{inst_id}_{n}" for n in range(1, 5)]
    assert all(i.text == "" and i.type == "scale" for i in inst.items)
    assert inst.stem == "" and not inst.options
    assert "use under your own licence" in inst.license
    assert inst.score_range == (0.0, 40.0)
    assert any("Miller" in r or "Duncan" in r for r in inst.references)


def test_srs_scores_decimals_and_marks_the_cutoff_of_36() -> None:
    srs = get_instrument("srs")
    low = score(srs, _answers("srs", 9.5, 9.0, 8.1, 9.0))
    assert low.total == pytest.approx(35.6) and low.above_cutoff is False
    assert low.band is not None and low.band.startswith("below 36")
    ok = score(srs, _answers("srs", 9.0, 9.0, 9.0, 9.0))
    assert ok.total == 36.0 and ok.above_cutoff is True and ok.band == "36 or more"
    assert srs.cutoff is not None and srs.cutoff.value == 36


def test_ors_cutoff_by_age_band() -> None:
    ors = get_instrument("ors")
    assert ors.cutoff is not None and ors.cutoff.value == 25  # no band known: adult
    by_band = {}
    for band in ("adult", "adolescent", "child"):
        cutoff = ors.for_age_band(band).cutoff
        assert cutoff is not None
        by_band[band] = cutoff.value
    assert by_band == {"adult": 25, "adolescent": 28, "child": 32}
    assert ors.for_age_band(None) is ors
    answers = _answers("ors", 7.0, 7.0, 7.0, 6.0)  # 27
    assert score(ors, answers).above_cutoff is True
    assert score(ors.for_age_band("adolescent"), answers).above_cutoff is False


def test_shell_values_are_validated_against_the_scale() -> None:
    ors = get_instrument("ors")
    for bad in (10.1, -0.1, 5.55):
        with pytest.raises(MeasureError, match="outside the scale"):
            score(ors, _answers("ors", bad, 1, 1, 1))
    refused = score(ors, {"ors_1": 5.0, "ors_2": 5.0, "ors_3": 5.0})
    assert refused.total is None and refused.missing == ["ors_4"]
    import numpy as np

    totals = score_matrix(ors, np.array([[1.5, 2.5, 3.0, 4.0], [1.0, np.nan, 1.0, 1.0]]))
    assert totals[0] == pytest.approx(11.0) and np.isnan(totals[1])


def test_responses_files_accept_decimal_scores() -> None:
    instruments = {"ors": get_instrument("ors")}
    records = [
        (
            "r1",
            {
                "session": 1,
                "date": "2026-01-05",
                "instrument": "ors",
                "item": f"ors_{n}",
                "value": "4.5",
            },
        )
        for n in range(1, 5)
    ]
    (adm,) = build_administrations(records, instruments)
    assert adm.answers == {f"ors_{n}": 4.5 for n in range(1, 5)}
    bad = [("r9", {"session": 1, "instrument": "ors", "item": "ors_1", "value": "11"})]
    with pytest.raises(MeasureError) as err:
        build_administrations(bad, instruments)
    assert err.value.where == "r9"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                '[[items]]\nid = "a"\ntype = "scale"',
                '[[items]]\nid = "a"\ntype = "scale"\ntext = "Q"',
            ),
            "score-only item",
        ),
        ("score_only = true", "score_only = false"),  # then items need text
        ("[scale]\nmin = 0\nmax = 10\nstep = 0.1", ""),
        ("max = 10\nstep", "max = 0\nstep"),
    ],
)
def test_shell_schema_errors(change: tuple[str, str] | str, message: str) -> None:
    if isinstance(change, tuple):
        text = SHELL.replace(change[0], change[1])
    else:
        text = SHELL.replace(change, message)
    assert text != SHELL
    with pytest.raises(SchemaError):
        _parse(text.encode(), "shell.toml")


def test_age_cutoffs_need_a_default_and_distinct_bands() -> None:
    extra = '\n[[age_cutoffs]]\nband = "child"\nages = "6–12"\nvalue = 32\n'
    with pytest.raises(SchemaError):
        _parse((SHELL + extra).encode(), "shell.toml")  # no [cutoff]
    ok = SHELL + "\n[cutoff]\nvalue = 10\n" + extra
    assert _parse(ok.encode(), "shell.toml").for_age_band("child").cutoff is not None
    with pytest.raises(SchemaError):
        _parse((ok + extra).encode(), "shell.toml")


def _course(admins: list[Administration], band: str | None = None) -> object:
    ors = get_instrument("ors")
    instruments = {
        "srs": get_instrument("srs"),
        "ors": ors.for_age_band(band) if band else ors,  # type: ignore[arg-type]
    }
    inputs = ClientInputs(
        folder=Path("client-x"),
        context=ClientContext(client_id="x"),
        instruments=instruments,
        administrations=admins,
    )
    return compute_course(inputs)


def _ors(session: int, *values: float) -> Administration:
    return Administration(
        session=session,
        date=dt.date(2026, 1, 5) + dt.timedelta(weeks=session),
        instrument="ors",
        answers=dict(_answers("ors", *values)),  # type: ignore[arg-type]
    )


def test_shells_flow_into_course_trajectories_change_and_alerts() -> None:
    from attunement.course import ClientCourse

    srs = Administration(
        session=1,
        date=dt.date(2026, 1, 12),
        instrument="srs",
        answers={"srs_1": 8.0, "srs_2": 8.5, "srs_3": 9.0, "srs_4": 9.4},
    )
    better = _course([_ors(1, 4.0, 5.0, 4.5, 4.5), srs, _ors(2, 6, 6, 6, 6), _ors(3, 7, 7, 7, 7)])
    assert isinstance(better, ClientCourse)
    ors = better.trajectories["ors"]
    assert ors.cutoff == 25 and ors.score_range == (0.0, 40.0) and ors.higher_is == "better"
    assert [p.score.total for p in ors.points] == [18.0, 24.0, 28.0]
    assert ors.change is not None and ors.change.status == "improved"
    assert ors.change.category == "recovered"  # crossed the adult cutoff of 25
    traj_srs = better.trajectories["srs"]
    assert traj_srs.cutoff == 36 and traj_srs.points[0].score.above_cutoff is False
    # a child's ORS: the same totals have not crossed the cutoff of 32
    child = _course([_ors(1, 4.0, 5.0, 4.5, 4.5), _ors(3, 7, 7, 7, 7)], band="child")
    assert isinstance(child, ClientCourse)
    assert child.trajectories["ors"].cutoff == 32
    assert child.trajectories["ors"].change is not None
    assert child.trajectories["ors"].change.category == "improved"
    # reliable deterioration raises the library's outcome alert, as for the PHQ-9
    worse = _course([_ors(1, 7, 7, 7, 7), _ors(2, 6, 6, 6, 6), _ors(3, 4, 4, 5, 4)])
    assert isinstance(worse, ClientCourse)
    assert any(a.kind == "outcome" and "ORS reliably worse" in a.text for a in worse.alerts)
