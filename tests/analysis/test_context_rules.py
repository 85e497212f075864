"""Clinical context rules on hand-coded sessions."""

from __future__ import annotations

import pytest

from attunement.analysis.context_rules import ContextRules, effective, prob
from attunement.analysis.suggestions import parse_repair_data
from attunement.errors import SchemaError
from attunement.model import Annotation, Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


def build(lines: list[tuple[Role, str, list[tuple[str, float]], dict[str, float]]]) -> Session:
    return Session(
        id="ctx",
        speakers=[Speaker(id="Dr. A", role=T), Speaker(id="B", role=C)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="Dr. A" if r is T else "B",
                role=r,
                text=text,
                start=10.0 * i,
                annotations=[
                    Annotation(code=c, probability=p, source="coding@1") for c, p in codes
                ],
                features=dict(f),
            )
            for i, (r, text, codes, f) in enumerate(lines)
        ],
    )


def mine(u: Utterance) -> list[Annotation]:
    return [a for a in u.annotations if a.source.startswith("context@")]


def test_minimal_kept_after_invitation_demoted_after_closed_question_by_cue() -> None:
    # no behaviour codes: the rule falls back on the wording of the question
    s = build(
        [
            (T, "How has that been for you?", [], {}),
            (C, "Fine.", [("W_MINIMAL", 0.8)], {}),
            (T, "Did you sleep well?", [], {}),
            (C, "Yeah.", [("W_MINIMAL", 0.8)], {}),
            (T, "It sounds like it's been a heavy week.", [], {}),
            (C, "Yeah.", [("W_MINIMAL", 0.8)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[1], "W_MINIMAL") == 0.8 and not mine(s.utterances[1])
    assert prob(s.utterances[3], "W_MINIMAL") == pytest.approx(0.24)
    assert prob(s.utterances[5], "W_MINIMAL") == 0.8  # a reflection invites elaboration
    # the model's own annotation is untouched
    assert any(a.source == "coding@1" and a.probability == 0.8 for a in s.utterances[3].annotations)


def test_human_code_is_never_demoted() -> None:
    s = build([(T, "Did you go?", [("question_closed", 0.9)], {}), (C, "No.", [], {})])
    s.utterances[1].annotations.append(Annotation(code="W_MINIMAL", probability=1.0))
    ContextRules()(s)
    assert prob(s.utterances[1], "W_MINIMAL") == 1.0
    assert effective(s.utterances[1])["W_MINIMAL"].source == "human"


def test_apology_is_repair_only_after_grievance() -> None:
    s = build(
        [
            (C, "I had a good week.", [], {}),
            (T, "Sorry, I'm running a little late today.", [("R_ACKNOWLEDGE", 0.7)], {}),
            (C, "You forgot our appointment last week.", [("C_THERAPIST", 0.9)], {}),
            (T, "You're right, I did, and I'm sorry.", [("R_ACKNOWLEDGE", 0.8)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[1], "R_ACKNOWLEDGE") == pytest.approx(0.21)
    assert "politeness" in (mine(s.utterances[1])[0].note or "")
    assert prob(s.utterances[3], "R_ACKNOWLEDGE") == 0.8


def test_apology_naming_own_mistake_is_repair_without_grievance_in_transcript() -> None:
    # the seed's forgotten appointment: the failure happened between sessions
    s = build(
        [
            (C, "Fine.", [], {}),
            (
                T,
                "Last Monday I wasn't here, and I forgot to call you. That was my mistake.",
                [("R_ACKNOWLEDGE", 0.8)],
                {},
            ),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[1], "R_ACKNOWLEDGE") == 0.8
    assert mine(s.utterances[1]) == []


def test_ignore_added_when_reply_misses_marked_turn() -> None:
    s = build(
        [
            (C, "You never really listen to me.", [("C_THERAPIST", 0.9)], {"valence": -0.4}),
            (
                T,
                "Let's get back to the worksheet.",
                [("other", 0.9)],
                {"semantic_responsiveness": 0.05},
            ),
            (C, "Nothing ever changes for me.", [("W_HOPELESS", 0.8)], {}),
            (
                T,
                "It sounds like you feel stuck.",
                [("reflection_simple", 0.9), ("E_INTERPRETATION", 0.8)],
                {"semantic_responsiveness": 0.05},
            ),
        ]
    )
    ContextRules()(s)
    ig = [a for a in mine(s.utterances[1]) if a.code == "F_IGNORE"]
    assert ig and ig[0].probability == pytest.approx(0.9) and "u0001" in (ig[0].note or "")
    assert prob(s.utterances[3], "F_IGNORE") == 0.0  # empathy present
    assert s.metrics["context"]["headline"]["Ignored markers or feelings"] == 1


def test_ignore_probability_follows_responsiveness() -> None:
    def p_for(sem: float) -> float:
        s = build(
            [
                (C, "I felt so ashamed.", [], {"valence": -0.8}),
                (T, "Okay.", [("other", 0.9)], {"semantic_responsiveness": sem}),
            ]
        )
        return prob(ContextRules()(s).utterances[1], "F_IGNORE")

    assert p_for(0.1) > p_for(0.45) > p_for(0.7) == 0.0


def test_ignore_skipped_without_therapist_codes() -> None:
    s = build(
        [
            (C, "You never listen.", [("C_THERAPIST", 0.9)], {}),
            (T, "Anyway.", [], {"semantic_responsiveness": 0.0}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[1], "F_IGNORE") == 0.0
    assert s.metrics["context"]["therapist_codes_present"] is False


def test_derived_flags() -> None:
    s = build(
        [
            (C, "I can't afford it so I think I'll stop coming.", [("C_PARAMETERS", 0.7)], {}),
            (C, "The sessions are at a bad time for me.", [("C_PARAMETERS", 0.7)], {}),
            (C, "This will be my last session.", [], {}),
            (C, "Why can't we be friends outside of here?", [("C_CONTROL", 0.8)], {}),
            (C, "Just tell me what to do.", [("C_CONTROL", 0.8)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[0], "TERMINATION_RISK") == 0.7
    assert prob(s.utterances[1], "TERMINATION_RISK") == 0.0
    assert prob(s.utterances[2], "TERMINATION_RISK") == 0.6
    assert prob(s.utterances[3], "BOUNDARY_PRESSURE") == 0.8
    assert prob(s.utterances[4], "BOUNDARY_PRESSURE") == 0.0


def test_rerun_is_idempotent_and_keeps_others() -> None:
    s = build(
        [
            (T, "Did you go?", [("question_closed", 0.9)], {}),
            (C, "No.", [("W_MINIMAL", 0.8)], {}),
        ]
    )
    ContextRules()(s)
    first = s.model_dump_json()
    ContextRules()(s)
    assert s.model_dump_json() == first
    assert len([a for a in s.utterances[1].annotations if a.source == "coding@1"]) == 1


def test_bad_suggestion_file_names_file_and_entry() -> None:
    bad = b"""version = "1"
[context]
termination = ["x"]
termination_explicit = ["x"]
personal_relationship = ["x"]
therapy_words = ["therapy"]
closed_question_starts = ["do"]
open_invitations = ["what"]
reflection_cues = ["you feel"]
[escalate]
strategy = "ESCALATE"
text = "at {flagged_at}"
[[rule]]
id = "r"
strategy = "R_HUG"
priority = 1
text = "at {at}"
"""
    with pytest.raises(SchemaError, match=r"my\.toml: rule\.0\.strategy"):
        parse_repair_data(bad, "my.toml")
    with pytest.raises(SchemaError, match="placeholder"):
        parse_repair_data(bad.replace(b"R_HUG", b"R_INVITE").replace(b"{at}", b"{name}"), "my.toml")


def test_uncorroborated_boundary_codes_are_demoted_not_escalated() -> None:
    s = build(
        [
            (C, "I walked to the park and it helped a bit.", [("BOUNDARY_PRESSURE", 0.6)], {}),
            (T, "Mm-hmm.", [("F_BOUNDARY", 0.63)], {}),
            (C, "Could we maybe be friends outside of here?", [("C_CONTROL", 0.7)], {}),
            (T, "Mm-hmm, sure.", [("F_BOUNDARY", 0.6)], {}),
            (C, "Okay.", [], {}),
            (T, "Right, I'll see what I can do about that.", [("F_BOUNDARY", 0.95)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[0], "BOUNDARY_PRESSURE") == pytest.approx(0.3)
    assert prob(s.utterances[1], "F_BOUNDARY") == pytest.approx(0.315)
    assert prob(s.utterances[3], "F_BOUNDARY") == 0.6  # the client's words corroborate it
    assert prob(s.utterances[5], "F_BOUNDARY") == 0.95  # very confident: kept, for a human to check
    m = s.metrics["context"]
    assert m["boundary_unconfirmed"] == ["u0001", "u0002"]
    assert [e["utterance"] for e in m["escalate"]] == ["u0004", "u0006"]


def test_termination_flag_needs_talk_about_therapy() -> None:
    s = build(
        [
            (C, "I didn't go to the gym this week.", [("TERMINATION_RISK", 0.6)], {}),
            (C, "I'm not sure I want to keep coming to sessions.", [("TERMINATION_RISK", 0.6)], {}),
            (C, "Work was long and boring.", [("TERMINATION_RISK", 0.95)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[0], "TERMINATION_RISK") == pytest.approx(0.3)
    assert prob(s.utterances[1], "TERMINATION_RISK") == 0.6
    assert prob(s.utterances[2], "TERMINATION_RISK") == 0.95
    assert s.metrics["context"]["rules_fired"]["termination_unconfirmed"] == 1


def test_confident_boundary_code_on_a_backchannel_still_needs_words() -> None:
    s = build(
        [
            (C, "The week was quiet.", [], {}),
            (T, "Mm-hmm.", [("F_BOUNDARY", 0.97)], {}),
            (C, "Can we be friends outside of here?", [("C_CONTROL", 0.8)], {}),
            (T, "Sure, why not.", [("F_BOUNDARY", 0.97)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[1], "F_BOUNDARY") == pytest.approx(0.485)
    assert prob(s.utterances[3], "F_BOUNDARY") == 0.97  # the client's request corroborates it


def test_stage_directions_are_not_words_the_client_said() -> None:
    s = build(
        [
            (
                C,
                "(pause) The fees went up again, (long pause) it's a lot.",
                [("C_PARAMETERS", 0.7)],
                {},
            ),
            (C, "I'd like to pause therapy over the summer.", [("C_PARAMETERS", 0.7)], {}),
            (C, "[pause] Money's tight with the sessions.", [("C_PARAMETERS", 0.7)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[0], "TERMINATION_RISK") == 0.0
    assert prob(s.utterances[1], "TERMINATION_RISK") == 0.7
    assert prob(s.utterances[2], "TERMINATION_RISK") == 0.0


def test_empty_phrase_list_matches_nothing() -> None:
    from attunement.analysis.lexicons import phrase_regex

    pattern = phrase_regex(())
    for text in ("Fine.", "What?", "", "ok!"):
        assert pattern.search(text) is None
    assert phrase_regex(["", "  "]).search("anything at all.") is None


def test_owned_mistakes_in_other_words_keep_the_apology() -> None:
    s = build(
        [
            (C, "Right.", [], {}),
            (T, "I double-booked your slot last week; that's on me.", [("R_ACKNOWLEDGE", 0.8)], {}),
            (C, "Okay.", [], {}),
            (T, "Sorry, go on, you were saying about the garden.", [("R_ACKNOWLEDGE", 0.8)], {}),
        ]
    )
    ContextRules()(s)
    assert prob(s.utterances[1], "R_ACKNOWLEDGE") == 0.8
    assert prob(s.utterances[3], "R_ACKNOWLEDGE") < 0.5
