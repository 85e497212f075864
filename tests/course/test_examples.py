"""The two example clients behave like the seed essays they are shaped on."""

from collections.abc import Callable
from pathlib import Path

import pytest

from attunement.course import run_course

EXAMPLES = Path(__file__).parents[2] / "src/attunement/examples/clients"

FORGOTTEN = EXAMPLES / "forgotten-appointment"
CANT_AFFORD = EXAMPLES / "cant-afford-it"


def test_forgotten_appointment_episode_opened_by_therapist_failure_ends_enhanced() -> None:
    course = run_course(FORGOTTEN, transcripts=False)
    (ep,) = course.episodes
    assert ep.opened_by == "therapist_failure"
    assert ep.kind == "confrontation"
    assert ep.state == "enhanced"
    assert str(ep.start_date) == "2026-03-02"
    assert ep.timeline[0].source == "event"
    assert (ep.start_session, ep.end_session) == (8, 15)
    assert ep.sessions_spanned >= 6
    assert ep.pre_alliance is not None and ep.post_alliance is not None
    assert ep.post_alliance > ep.pre_alliance
    # the relationship was worked through over about two months
    assert ep.end_date is not None and (ep.end_date - ep.start_date).days >= 50


def test_forgotten_appointment_states_over_time(client_copy: Callable[..., Path]) -> None:
    states = {}
    for upto in (7, 8, 9, 11, 14, 15):
        course = run_course(client_copy("forgotten-appointment", upto=upto), transcripts=False)
        states[upto] = [e.state for e in course.episodes]
    # session 7 is before the missed appointment, which already opens the episode
    assert states[7] == ["open"]
    assert states[8] == ["open"]
    assert states[9] == ["working_through"]
    assert states[11] == ["working_through"]
    assert states[14] == ["working_through"]
    assert states[15] == ["resolved"]  # after only one more session: not yet known to be stronger


def test_forgotten_appointment_alert_is_an_observation_with_evidence() -> None:
    course = run_course(FORGOTTEN, transcripts=False)
    alert = next(a for a in course.alerts if a.kind == "therapist_failure")
    assert alert.text == (
        "Alliance check fell from 8.5 to 4.0 after session 7 "
        "(therapist-missed appointment on 2026-03-02)."
    )
    assert "R_ACKNOWLEDGE" in alert.suggested_moves
    assert "R_LINK_HISTORY" in alert.suggested_moves  # history of neglect recorded
    assert any("session 8" in r for r in alert.reasons)


def test_forgotten_appointment_outcomes_recover() -> None:
    course = run_course(FORGOTTEN, transcripts=False)
    phq = course.trajectories["phq9"]
    assert phq.change is not None and phq.change.category == "recovered"
    assert ("loss", 7, 8) in phq.sudden_sessions
    assert course.dropout.level == "low"
    k1 = course.alliance_sequences["k1"]
    assert [(s.drop_session, s.recovery_session) for s in k1] == [(8, 15)]


def test_forgotten_appointment_with_transcripts_if_present() -> None:
    # its client.toml points at examples/sessions/…, outside the client folder
    course = run_course(FORGOTTEN, allow_outside_transcripts=True)
    assert course.episodes[0].opened_by == "therapist_failure"
    if any(s.transcript for s in course.sessions):
        assert course.episodes[0].acknowledged is not None


def test_cant_afford_it_dropout_risk_is_high_with_reasons() -> None:
    course = run_course(CANT_AFFORD, analyze=False)  # human-coded transcripts only
    risk = course.dropout
    assert risk.level == "high"
    parts = {c.name: c for c in risk.components}
    assert parts["termination_talk"].contribution > 0
    assert "session(s) 6" in parts["termination_talk"].reason
    assert parts["absences"].contribution == parts["absences"].weight
    assert abs(sum(c.contribution for c in risk.components) - risk.score) < 1e-6
    alert = next(a for a in course.alerts if a.kind == "dropout")
    assert alert.priority == "high"
    assert len(alert.reasons) == sum(c.contribution > 0 for c in risk.components)
    # questionnaires alone looked calm: the client reported no tension in session 6
    assert course.sessions[-1].tension == 0


def test_cant_afford_it_without_transcripts_is_less_alarming() -> None:
    with_t = run_course(CANT_AFFORD, analyze=False).dropout.score
    without = run_course(CANT_AFFORD, transcripts=False).dropout.score
    assert without < with_t


def test_vectorized_dropout_score_matches_the_per_client_one() -> None:
    import numpy as np

    from attunement.course.risk import dropout_score_arrays

    risk = run_course(CANT_AFFORD, analyze=False).dropout
    v = {c.name: c.value for c in risk.components}
    arr = dropout_score_arrays(
        np.array([v["termination_talk"]]),
        np.array([v["absences"]]),
        np.array([v["unresolved_ruptures"]]),
        np.array([-v["alliance_decline"]]),
    )
    assert arr[0] == pytest.approx(risk.score, abs=1e-3)


def test_phq9_item9_raises_a_high_safety_alert_first(client_copy) -> None:  # type: ignore[no-untyped-def]
    folder = client_copy("forgotten-appointment")
    rows = "".join(f"18,2026-05-18,phq9,phq9_{i},{1 if i == 9 else 0}\n" for i in range(1, 10))
    with (folder / "responses.csv").open("a", encoding="utf-8") as fh:
        fh.write(rows)
    course = run_course(folder, transcripts=False)
    first = course.alerts[0]
    assert first.kind == "safety" and first.priority == "high" and first.session == 18
    assert "item 9" in first.text


def test_folder_without_client_toml_gets_a_pseudonymous_id(tmp_path: Path) -> None:
    folder = tmp_path / "Jane Doe"
    folder.mkdir()
    course = run_course(folder)
    assert course.client_id.startswith("client-") and "Jane" not in course.client_id
