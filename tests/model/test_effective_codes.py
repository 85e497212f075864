"""Precedence of annotations: human > context rule > model; reports read the effective view."""

from attunement.model import Annotation, Role, Session, Speaker, Utterance
from attunement.report.view import moments


def _utt(annotations: list[Annotation]) -> Utterance:
    return Utterance(
        id="u0002",
        index=1,
        speaker="C",
        role=Role.CLIENT,
        text="Yeah.",
        annotations=annotations,
    )


def test_context_rule_demotes_model_code() -> None:
    u = _utt(
        [
            Annotation(code="W_MINIMAL", probability=0.91, source="coding@1"),
            Annotation(code="W_MINIMAL", probability=0.10, source="context@1"),
        ]
    )
    assert not u.has_code("W_MINIMAL")
    assert u.codes() == []
    assert len(u.annotations) == 2  # the model's opinion is kept for the audit trail


def test_human_code_wins_over_rule_and_model() -> None:
    u = _utt(
        [
            Annotation(code="W_MINIMAL", probability=0.2, source="coding@1"),
            Annotation(code="W_MINIMAL", probability=0.1, source="context@1"),
            Annotation(code="W_MINIMAL", probability=1.0, source="human"),
        ]
    )
    assert u.has_code("W_MINIMAL")
    assert [a.source for a in u.codes()] == ["human"]


def test_demoted_code_is_not_a_report_moment() -> None:
    therapist = Utterance(
        id="u0001", index=0, speaker="T", role=Role.THERAPIST, text="How was the week?"
    )
    demoted = _utt(
        [
            Annotation(code="W_MINIMAL", probability=0.91, source="coding@1"),
            Annotation(code="W_MINIMAL", probability=0.10, source="context@1"),
        ]
    )
    session = Session(
        id="s",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[therapist, demoted],
    )
    assert [m.code for m in moments(session)] == []
    demoted.annotations.pop()  # without the rule, the model's code shows
    assert [m.code for m in moments(session)] == ["W_MINIMAL"]
