"""Context weighting changes priority and wording, never evidence; episode state rules."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from attunement.course import run_course
from attunement.course.context import Event
from attunement.course.episodes import build_episodes
from attunement.course.model import SessionRecord


def _episode_alert(folder: Path):  # type: ignore[no-untyped-def]
    course = run_course(folder, transcripts=False)
    return next(a for a in course.alerts if a.kind == "episode")


def test_context_moves_priority_not_evidence(client_copy: Callable[..., Path]) -> None:
    history = _episode_alert(client_copy("forgotten-appointment", upto=11))
    plain = _episode_alert(
        client_copy("forgotten-appointment", upto=11, toml_edit="history_neglect_or_abuse = false")
    )
    low = _episode_alert(
        client_copy(
            "forgotten-appointment",
            upto=11,
            toml_edit='history_neglect_or_abuse = false\nsensitivity = "low"',
        )
    )
    assert (history.base_priority, plain.base_priority, low.base_priority) == ("medium",) * 3
    assert (history.priority, plain.priority, low.priority) == ("high", "medium", "low")
    assert history.reasons == plain.reasons == low.reasons
    assert history.context == ["clinician recorded a history of neglect or abuse"]
    assert "worth raising early" in history.text
    assert plain.context == []
    assert "sensitivity to low" in low.context[0]


def test_new_alliance_raises_priority(client_copy: Callable[..., Path]) -> None:
    alert = _episode_alert(
        client_copy(
            "forgotten-appointment",
            upto=11,
            toml_edit="history_neglect_or_abuse = false\ntreatment_start = 2026-01-12",
        )
    )
    assert alert.priority == "high"
    assert any("alliance is new" in c for c in alert.context)


def rec(n: int, alliance: float | None, tension: float | None = 0, **kw: object) -> SessionRecord:
    return SessionRecord(
        number=n,
        date=dt.date(2026, 1, 5) + dt.timedelta(weeks=n - 1),
        alliance=alliance,
        tension=tension,
        **kw,  # type: ignore[arg-type]
    )


def test_rupture_settled_within_the_session_is_resolved_at_once() -> None:
    records = [rec(1, 8), rec(2, 8), rec(3, 8, tension=3, tension_resolved=4), rec(4, 8)]
    (ep,) = build_episodes(records, [])
    assert ep.opened_by == "client_report" and ep.state == "resolved"
    assert ep.start_session == ep.end_session == 3


def test_strain_that_never_settles_becomes_unresolved() -> None:
    records = [rec(1, 8), rec(2, 8)] + [rec(n, 5, tension=3) for n in range(3, 10)]
    (ep,) = build_episodes(records, [])
    assert ep.state == "unresolved" and ep.sessions_spanned == 7


def test_therapy_ending_while_open() -> None:
    records = [rec(1, 8), rec(2, 8), rec(3, 4, tension=4)]
    ended = Event(date=dt.date(2026, 2, 2), kind="therapy_ended")
    (ep,) = build_episodes(records, [ended])
    assert ep.state == "ended_therapy" and ep.end_date == dt.date(2026, 2, 2)


def test_transcript_repair_moves_and_acknowledgement_are_recorded() -> None:
    missed = Event(date=dt.date(2026, 1, 15), kind="therapist_missed")  # before session 3
    records = [
        rec(1, 9), rec(2, 9),
        rec(3, 5, tension=3, transcript="s3.vtt", repairs=["R_ACKNOWLEDGE", "R_INVITE"],
            markers={"C_THERAPIST": 2}),
        rec(4, 9.5, tension=0, transcript="s4.vtt"),
    ]  # fmt: skip
    (ep,) = build_episodes(records, [missed])
    assert ep.acknowledged is True
    assert ep.repair_moves == ["R_ACKNOWLEDGE", "R_INVITE"]
    assert ep.kind == "confrontation" and ep.state in ("resolved", "enhanced")


def test_missed_appointment_absorbed_by_a_strong_alliance() -> None:
    missed = Event(date=dt.date(2026, 1, 15), kind="therapist_missed")  # before session 3
    records = [rec(1, 9), rec(2, 9), rec(3, 9, tension=0), rec(4, 9)]
    (ep,) = build_episodes(records, [missed])
    assert ep.state == "resolved" and ep.end_session == 3


@pytest.mark.parametrize("k", ["k1", "k2"])
def test_course_reports_both_k(k: str, client_copy: Callable[..., Path]) -> None:
    course = run_course(client_copy("forgotten-appointment"), transcripts=False)
    assert k in course.alliance_sequences
