"""Rupture episodes and suggested repairs on hand-coded sessions (no model needed)."""

from __future__ import annotations

from typing import Any

from attunement.analysis.context_rules import ContextRules
from attunement.analysis.episodes import RuptureEpisodes, quote, salience
from attunement.analysis.suggestions import EpisodeFacts, repair_data, suggest
from attunement.model import Annotation, Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT
Line = tuple[Role, str, list[tuple[str, float, str | None]], dict[str, float]]


def build(lines: list[Line], **meta: Any) -> Session:
    """A session whose utterances carry the given (code, probability, level) annotations."""
    utts = []
    for i, (role, text, codes, feats) in enumerate(lines):
        utts.append(
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="Dr. A" if role is T else "B",
                role=role,
                text=text,
                start=30.0 * i,
                end=30.0 * i + 20.0,
                annotations=[
                    Annotation(code=c, probability=p, level=lv, source="coding@1")
                    for c, p, lv in codes
                ],
                features=dict(feats),
            )
        )
    s = Session(
        id="t",
        speakers=[Speaker(id="Dr. A", role=T), Speaker(id="B", role=C)],
        utterances=utts,
    )
    for k, v in meta.items():
        setattr(s.meta, k, v)
    return s


def run(s: Session) -> Session:
    return RuptureEpisodes()(ContextRules()(s))


def confrontation_repaired() -> Session:
    return build(
        [
            (T, "How did the week go?", [("question_open", 0.9, None)], {}),
            (C, "My mother called and I felt awful all evening.", [], {"valence": -0.6}),
            (
                T,
                "You should try a breathing exercise.",
                [("advice", 0.9, None), ("F_PREMATURE", 0.8, None)],
                {},
            ),
            (
                C,
                "You're not listening to me. You never do.",
                [("C_THERAPIST", 0.92, None)],
                {"valence": -0.5},
            ),
            (
                T,
                "You're right, I jumped to advice. I'm sorry. Tell me about the evening.",
                [("R_ACKNOWLEDGE", 0.85, None), ("E_EXPLORATION", 0.8, "strong")],
                {},
            ),
            (
                C,
                "She said I had ruined the holidays again, and I just sat in the kitchen feeling "
                "ashamed and sad for hours.",
                [],
                {},
            ),
            (T, "That sounds really painful.", [("E_EMOTIONAL_REACTION", 0.9, "strong")], {}),
            (
                C,
                "It was. It always ends up like that with her and I never know what to say.",
                [],
                {},
            ),
        ]
    )


def test_confrontation_after_failure_acknowledged_is_resolved() -> None:
    s = run(confrontation_repaired())
    assert len(s.episodes) == 1
    ep = s.episodes[0]
    assert ep.kind == "confrontation"
    assert ep.start_id == ep.end_id == "u0004"
    assert [e.code for e in ep.contribution] == ["F_PREMATURE"]
    assert {"R_ACKNOWLEDGE", "E_EXPLORATION"} <= {e.code for e in ep.repairs}
    assert ep.resolution == "resolved"
    assert "elaborated" in {e.code for e in ep.resolution_evidence}
    assert ep.suggestions == []  # repaired: nothing to suggest
    assert ep.salience >= 3
    assert "at 1:00 coded as premature advice" in ep.summary
    assert "re-engaged" in ep.summary and ep.summary.endswith(".")
    assert s.metrics["episodes"]["headline"]["Unresolved or not addressed"] == 0


def cheerful_termination() -> Session:
    return build(
        [
            (
                T,
                "Good to see you. What would you like to focus on?",
                [("question_open", 0.9, None)],
                {},
            ),
            (
                C,
                "Oh, it's all good! I actually can't afford it anymore, so this is my last "
                "session, ha.",
                [("C_PARAMETERS", 0.8, None), ("W_CONTENT_AFFECT", 0.6, None)],
                {"valence": 0.6, "affect_mismatch": 1.0},
            ),
            (
                T,
                "Okay. Shall we book a follow-up call for the paperwork?",
                [("question_closed", 0.9, None)],
                {},
            ),
            (C, "Sure.", [], {"valence": 0.3}),
            (T, "Great, I'll send the form.", [("information", 0.9, None)], {}),
        ]
    )


def test_cheerful_termination_not_addressed_with_invite() -> None:
    s = run(cheerful_termination())
    assert len(s.episodes) == 1
    ep = s.episodes[0]
    assert ep.resolution == "not_addressed"
    assert "TERMINATION_RISK" in ep.flags  # ensured by the context rule from C_PARAMETERS
    assert ep.kind == "mixed"
    assert ep.salience >= 3
    strategies = [x.strategy for x in ep.suggestions]
    assert strategies[0] == "R_INVITE" and 1 <= len(strategies) <= 3
    assert len(set(strategies)) == len(strategies)
    assert "light tone" in ep.suggestions[0].text and "0:30" in ep.suggestions[0].text
    assert ep.suggestions[0].because == ["u0002"]
    assert "did not return to it" in ep.summary
    assert s.metrics["episodes"]["headline"]["Termination-risk moments"] == 1
    assert s.metrics["episodes"]["headline"]["Unresolved or not addressed"] == 1


def test_minimal_after_closed_question_is_no_episode() -> None:
    s = build(
        [
            (T, "Did you take the bus today?", [("question_closed", 0.9, None)], {}),
            (C, "Yeah.", [("W_MINIMAL", 0.8, None)], {}),
            (T, "Okay, good.", [("other", 0.9, None)], {}),
        ]
    )
    s = run(s)
    assert s.episodes == []
    demoted = [a for a in s.utterances[1].annotations if a.source.startswith("context@")]
    assert demoted and demoted[0].probability < 0.5 and "closed question" in (demoted[0].note or "")


def test_minimal_after_open_question_is_an_episode() -> None:
    s = build(
        [
            (T, "What was that like for you?", [("question_open", 0.9, None)], {}),
            (C, "Yeah.", [("W_MINIMAL", 0.8, None)], {}),
            (T, "Mm. Shall we look at the homework?", [("question_closed", 0.9, None)], {}),
            (C, "Okay.", [], {}),
        ]
    )
    s = run(s)
    assert len(s.episodes) == 1 and s.episodes[0].kind == "withdrawal"
    assert s.episodes[0].resolution == "not_addressed"
    assert s.episodes[0].salience == 2


def test_boundary_crossing_escalates_and_never_suggests_repair() -> None:
    s = build(
        [
            (T, "How are you today?", [("question_open", 0.9, None)], {}),
            (
                C,
                "Why can't we be friends outside of this? We could get coffee.",
                [("C_CONTROL", 0.85, None)],
                {},
            ),
            (
                T,
                "Sure, let's get coffee on Friday, here's my number.",
                [("F_BOUNDARY", 0.9, None), ("R_VALIDATE", 0.6, None)],
                {},
            ),
            (C, "Great, I'd really love that, I've been hoping for it for weeks.", [], {}),
        ]
    )
    s = run(s)
    ep = s.episodes[0]
    assert "ESCALATE" in ep.flags and "BOUNDARY_PRESSURE" in ep.flags
    assert [x.strategy for x in ep.suggestions] == ["ESCALATE"]
    assert ep.suggestions[0].because == ["u0003"]
    assert not any(x.strategy.startswith("R_") for x in ep.suggestions)
    assert "consultation" in ep.summary
    assert s.metrics["context"]["escalate"][0]["utterance"] == "u0003"
    assert s.metrics["episodes"]["headline"]["Escalate (boundary)"] == 1


def test_repair_then_markers_continue_is_unresolved() -> None:
    s = build(
        [
            (T, "What do you make of that?", [("question_open", 0.9, None)], {}),
            (C, "Dunno.", [("W_MINIMAL", 0.8, None)], {}),
            (
                T,
                "I wonder if I said something that didn't sit right?",
                [("R_INVITE", 0.8, None)],
                {},
            ),
            (C, "No, it's fine.", [("W_DENIAL", 0.75, None)], {}),
            (T, "What's it like talking about this?", [("question_open", 0.9, None)], {}),
            (C, "I guess.", [("W_MINIMAL", 0.7, None)], {}),
        ]
    )
    s = run(s)
    assert len(s.episodes) == 1
    ep = s.episodes[0]
    assert ep.end_id == "u0006" and len({m.utterance_id for m in ep.markers}) == 3
    assert ep.resolution == "unresolved"
    assert "markers continued" in ep.summary
    assert 1 <= len(ep.suggestions) <= 3


def test_separate_families_far_apart_make_two_episodes_and_recurrence() -> None:
    lines: list[Line] = [(T, "What brings you in?", [("question_open", 0.9, None)], {})]
    lines.append((C, "Dunno.", [("W_MINIMAL", 0.8, None)], {}))
    for _ in range(5):
        lines.append((T, "Tell me about your week.", [("question_open", 0.9, None)], {}))
        lines.append((C, "Work was busy and I went to see my sister on Sunday afternoon.", [], {}))
    lines.append((T, "How do you feel about that?", [("question_open", 0.9, None)], {}))
    lines.append((C, "Whatever.", [("W_MINIMAL", 0.8, None)], {}))
    s = run(build(lines, history_neglect_or_abuse=True))
    assert len(s.episodes) == 2
    strategies = {x.strategy for x in s.episodes[1].suggestions}
    assert "R_LINK_RELATIONSHIP" in strategies or "R_LINK_HISTORY" in strategies


def test_faint_marker_below_threshold_makes_no_episode_and_rerun_is_stable() -> None:
    s = build(
        [
            (T, "What happened?", [("question_open", 0.9, None)], {}),
            (C, "I don't know, it was a long day.", [("W_ABSTRACT", 0.4, None)], {}),
        ]
    )
    s = run(s)
    assert s.episodes == []
    s2 = run(confrontation_repaired())
    first = s2.model_dump_json()
    assert RuptureEpisodes()(s2).model_dump_json() == first


def test_salience_recipe() -> None:
    assert salience(0.55, 1, False, False, 0.0)[0] == 1
    assert salience(0.75, 1, True, False, 0.0)[0] == 3
    assert salience(0.95, 5, True, True, -0.8)[0] == 5
    lo = salience(0.7, 1, False, False, 0.0)[0]
    hi = salience(0.7, 3, False, False, 0.0)[0]
    assert hi > lo


def test_quote_is_shortened() -> None:
    q = quote("word " * 100)
    assert len(q) <= 200 and q.endswith("…")


def test_suggestion_data_is_valid_and_escalate_has_no_repair() -> None:
    data = repair_data()
    assert any(r.strategy == "R_INVITE" for r in data.rule)
    s = run(cheerful_termination())
    ep = s.episodes[0].model_copy(update={"flags": ["ESCALATE"]})
    out = suggest(ep, EpisodeFacts(flagged_at="1:00", flagged_ids=["u0003"]))
    assert [x.strategy for x in out] == ["ESCALATE"] and "1:00" in out[0].text


def test_boundary_crossing_outside_any_episode_is_still_listed() -> None:
    s = build(
        [
            (C, "It went fine this week, I finished the reading.", [], {}),
            (
                T,
                "Good. Let's grab a drink together after work sometime.",
                [("F_BOUNDARY", 0.7, None)],
                {},
            ),
        ]
    )
    s = run(s)
    assert s.episodes == []
    assert s.metrics["episodes"]["escalate"] == ["u0002"]
    assert s.metrics["episodes"]["headline"]["Escalate (boundary)"] == 1


def test_weak_markers_extend_but_never_open_an_episode() -> None:
    lines: list[Line] = [
        (T, "What was that like?", [("question_open", 0.9, None)], {}),
        (C, "It's fine, whatever.", [("W_DENIAL", 0.55, None)], {}),
        (T, "Tell me more about that.", [("question_open", 0.9, None)], {}),
        (C, "I said it's fine.", [("W_DENIAL", 0.8, None)], {}),
        (T, "How do you feel about it now?", [("question_open", 0.9, None)], {}),
        (C, "I don't know, it doesn't matter.", [("W_DENIAL", 0.55, None)], {}),
    ]
    s = run(build(lines))
    assert len(s.episodes) == 1
    ep = s.episodes[0]
    assert ep.start_id == "u0004" and ep.end_id == "u0006"


def test_suggestions_follow_contribution_and_rejected_task() -> None:
    s = build(
        [
            (T, "How did the week go?", [("question_open", 0.9, None)], {}),
            (C, "I was so anxious before the interview.", [], {"valence": -0.6}),
            (T, "You should just do the worksheet.", [("F_DISMISS", 0.8, None)], {}),
            (C, "No, these worksheets are pointless.", [("C_ACTIVITIES", 0.85, None)], {}),
            (T, "Let's do it anyway.", [("advice", 0.9, None)], {}),
            (C, "Fine.", [], {}),
        ]
    )
    ep = run(s).episodes[0]
    assert ep.resolution == "not_addressed"
    assert [e.utterance_id for e in ep.contribution] == ["u0003"]
    strategies = [x.strategy for x in ep.suggestions]
    assert strategies == ["R_ACKNOWLEDGE", "R_RATIONALE", "R_CHANGE_TASK"]
    assert "u0003" in ep.suggestions[0].because and "1:00" in ep.suggestions[0].text
