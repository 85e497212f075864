"""End to end on the example sessions shaped like the seed vignettes, with the shipped model.

What the coding issue promises a clinician will see:

* the cheerful "can't afford it anymore" turn coded as a parameters complaint with
  termination risk, and whether the therapist explored it (one version explores it, the
  other lets it pass, and the report must tell the two apart);
* the forgotten appointment: the client's confrontation, the therapist's acknowledgement,
  and the link to the client's history as repair.

These run the same pipeline as ``attune analyze`` (reader → every available analyzer).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from attunement.analysis.pipeline import analyze, available, build_pipeline
from attunement.io import read_session
from attunement.model import Episode, Session, Utterance

pytestmark = pytest.mark.slow
ROOT = Path(str(resources.files("attunement") / "examples" / "sessions"))
SERIES = sorted((ROOT / "forgotten-appointment").glob("session-*"))


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    names = available()
    if "coding" not in names:
        pytest.skip("the coding model (static encoder) is not available")
    return build_pipeline(names)


def _run(pipeline, path: Path) -> Session:  # type: ignore[no-untyped-def]
    return analyze(read_session(path), pipeline=pipeline)


def _turn(session: Session, words: str) -> Utterance:
    hits = [u for u in session.utterances if words in u.text]
    assert len(hits) == 1, f"expected one turn containing {words!r}"
    return hits[0]


def _episode_of(session: Session, u: Utterance) -> Episode:
    for ep in session.episodes:
        if any(m.utterance_id == u.id for m in ep.markers):
            return ep
    raise AssertionError(f"turn {u.id} is in no episode")


def _next_therapist_turns(session: Session, u: Utterance, n: int) -> list[Utterance]:
    return [x for x in session.utterances[u.index + 1 :] if x.is_therapist][:n]


@pytest.mark.parametrize("name", ["cheerful-goodbye.txt", "cheerful-goodbye-missed.vtt"])
def test_cant_afford_it_is_termination_talk_in_an_episode(pipeline, name) -> None:  # type: ignore[no-untyped-def]
    s = _run(pipeline, ROOT / name)
    turn = _turn(s, "can't afford it anymore")
    assert turn.has_code("TERMINATION_RISK")
    assert "TERMINATION_RISK" in _episode_of(s, turn).flags


#: Known miss of the corpus-v2 model (precision-first decision cuts; recall of
#: C_PARAMETERS on held-out corpus sessions is about 0.2, docs/benchmarks.md). Strict, so
#: the test says so when a better model starts to pass it.
PARAMETERS_MISS = pytest.mark.xfail(
    strict=True,
    reason="corpus-v2 model: C_PARAMETERS below its decision cut on this cheerful turn",
)


@PARAMETERS_MISS
@pytest.mark.parametrize("name", ["cheerful-goodbye.txt", "cheerful-goodbye-missed.vtt"])
def test_cant_afford_it_is_a_parameters_complaint(pipeline, name) -> None:  # type: ignore[no-untyped-def]
    s = _run(pipeline, ROOT / name)
    assert _turn(s, "can't afford it anymore").has_code("C_PARAMETERS")


def test_explored_version_shows_the_exploration_and_re_engagement(pipeline) -> None:  # type: ignore[no-untyped-def]
    s = _run(pipeline, ROOT / "cheerful-goodbye.txt")
    turn = _turn(s, "can't afford it anymore")
    replies = _next_therapist_turns(s, turn, 3)
    assert any(r.has_code("E_EXPLORATION") or r.has_code("R_INVITE") for r in replies)
    ep = _episode_of(s, turn)
    assert ep.repairs, "the therapist's exploration must be listed as repair"
    assert ep.resolution in {"resolved", "partially_resolved"}


def test_explored_version_ends_with_no_open_termination_episode(pipeline) -> None:  # type: ignore[no-untyped-def]
    s = _run(pipeline, ROOT / "cheerful-goodbye.txt")
    turn = _turn(s, "can't afford it anymore")
    assert "TERMINATION_RISK" in _episode_of(s, turn).flags  # flagged, so not vacuous
    open_ = [e for e in s.episodes if e.resolution in {"unresolved", "not_addressed"}]
    assert not [e for e in open_ if "TERMINATION_RISK" in e.flags]
    suggested = [x.strategy for e in s.episodes for x in e.suggestions]
    assert "R_INVITE" not in suggested, "the therapist did invite; do not suggest it"


def _is_greeting_or_goodbye(text: str) -> bool:
    """A short turn that opens with a greeting or contains a goodbye."""
    words = re.findall(r"[a-z']+", text.lower())
    social = {"hi", "hello", "bye", "goodbye"}
    return 0 < len(words) <= 10 and (words[0] in social or bool(social & set(words[-2:])))


@pytest.mark.parametrize("name", ["cheerful-goodbye.txt", "cheerful-goodbye-missed.vtt"])
def test_greetings_and_goodbyes_carry_no_marker_or_failure(pipeline, name) -> None:  # type: ignore[no-untyped-def]
    s = _run(pipeline, ROOT / name)
    social = [u for u in s.utterances if _is_greeting_or_goodbye(u.text)]
    assert social, "both versions open with a greeting"
    for u in social:
        coded = {
            c
            for c, a in u.effective().items()
            if c[:2] in {"W_", "C_", "F_"} and a.probability >= 0.5
        }
        assert not coded, f"turn {u.id} is social talk but carries {sorted(coded)}"


def test_missed_version_is_flagged_with_a_suggested_invitation(pipeline) -> None:  # type: ignore[no-untyped-def]
    s = _run(pipeline, ROOT / "cheerful-goodbye-missed.vtt")
    turn = _turn(s, "can't afford it anymore")
    ep = _episode_of(s, turn)
    assert ep.resolution in {"unresolved", "not_addressed"}
    assert "R_INVITE" in [x.strategy for x in ep.suggestions]
    # unresolved because of what the client said: the episode is opened by the ending talk
    # and none of its markers is social talk such as a goodbye
    assert ep.markers[0].utterance_id == turn.id or turn.id in {m.utterance_id for m in ep.markers}
    by_id = {u.id: u for u in s.utterances}
    assert not [m for m in ep.markers if _is_greeting_or_goodbye(by_id[m.utterance_id].text)]


@pytest.mark.xfail(
    strict=True,
    reason="corpus-v2 model: R_ACKNOWLEDGE below its cut on this long apology",
)
def test_forgotten_appointment_acknowledgement(pipeline) -> None:  # type: ignore[no-untyped-def]
    first = _run(pipeline, SERIES[0])
    assert _turn(first, "That was my mistake").has_code("R_ACKNOWLEDGE")


@pytest.mark.xfail(
    strict=True,
    reason="corpus-v2 model: R_LINK_HISTORY (held-out recall about 0.2) below its cut here",
)
def test_forgotten_appointment_link_to_history(pipeline) -> None:  # type: ignore[no-untyped-def]
    later = _run(pipeline, SERIES[2])
    assert _turn(later, "Being forgotten by me opened the door").has_code("R_LINK_HISTORY")


@pytest.mark.xfail(
    strict=True,
    reason="corpus-v2 model: C_THERAPIST (held-out recall about 0.2) below its cut here",
)
def test_forgotten_appointment_confrontation(pipeline) -> None:  # type: ignore[no-untyped-def]
    first = _run(pipeline, SERIES[0])
    assert _turn(first, "you just forgot me").has_code("C_THERAPIST")
    assert any(ep.kind in {"confrontation", "mixed"} for ep in first.episodes)
