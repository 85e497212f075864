"""One shared contract test run against every registered analyzer that is importable.

Like scikit-learn's ``check_estimator``: each analyzer must return the same session, write
``metrics[name]["headline"]`` (≤ 5 short labels → number or short string), be idempotent
when re-run, record itself once in ``provenance``, keep JSON round-tripping, and leave
other sources' annotations alone.
"""

from __future__ import annotations

import json

import pytest

from attunement.analysis.base import PipelineContext
from attunement.analysis.pipeline import analyzer_class, available, build_pipeline
from attunement.errors import ModelError
from attunement.model import Annotation, Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT
_LINES = [
    (T, "Welcome back. How have the last two weeks been?"),
    (C, "Honestly pretty rough. I've felt really lonely since my brother moved away."),
    (T, "It sounds like losing him nearby has left you feeling alone. What's that been like?"),
    (C, "(laughs) It's fine, it's funny really, nobody came to my birthday either."),
    (T, "Let's go over the homework sheet from last time."),
    (C, "Sure. Whatever you think is best."),
    (T, "Did you manage the breathing exercise?"),
    (C, "No. I can't afford to keep coming, so this might be my last session."),
    (T, "I'm glad you told me. Can you tell me more about what's making you think of stopping?"),
    (C, "I just don't feel like it's helping and money is tight."),
    (T, "That makes sense. I hear that it feels like we're not getting anywhere."),
    (C, "Yeah."),
]


def _session() -> Session:
    return Session(
        id="conformance",
        speakers=[Speaker(id="Dr. A", role=T), Speaker(id="B", role=C)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="Dr. A" if r is T else "B",
                role=r,
                text=t,
                start=20.0 * i,
                end=20.0 * i + 12.0,
                line=i + 1,
            )
            for i, (r, t) in enumerate(_LINES)
        ],
    )


def _is_headline_value(v: object) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) or (
        isinstance(v, str) and len(v) <= 40
    )


@pytest.mark.parametrize("name", available())
def test_analyzer_contract(name: str) -> None:
    ctx = PipelineContext(encoder_name="static")
    try:
        pipeline = build_pipeline([name], ctx)
    except ModelError as exc:  # the static encoder is built by `make setup`
        pytest.skip(str(exc))
    target = pipeline[-1]
    assert target.name == name and isinstance(target, analyzer_class(name))
    before = [a.name for a in pipeline[:-1]]
    assert set(target.requires) <= set(before), "requirements must run first"

    session = _session()
    human = Annotation(code="W_DENIAL", probability=1.0, source="human")
    session.utterances[3].annotations.append(human)
    for analyzer in pipeline:
        out = analyzer(session)
        assert out is session, f"{analyzer.name} must return the session it was given"

    metrics = session.metrics[name]
    headline = metrics["headline"]
    assert isinstance(headline, dict) and 1 <= len(headline) <= 5
    assert all(isinstance(k, str) and _is_headline_value(v) for k, v in headline.items())
    json.dumps(metrics)  # JSON-able
    tag = f"{name}@{target.version}"
    assert session.provenance.count(tag) == 1
    assert human in session.utterances[3].annotations

    first = session.model_dump_json()
    assert target(session) is session
    assert session.model_dump_json() == first, f"{name} is not idempotent"
    assert session.provenance.count(tag) == 1 and session.provenance[-1] == tag
    assert Session.model_validate_json(first).model_dump_json() == first


_LANGUAGE = ("talk", "lsm", "tone", "emotional_responsiveness", "semantic_responsiveness")


@pytest.mark.parametrize("name", [n for n in _LANGUAGE if n in available()])
@pytest.mark.parametrize("size", [0, 1])
def test_language_analyzers_handle_degenerate_sessions(name: str, size: int) -> None:
    try:
        pipeline = build_pipeline([name], PipelineContext(encoder_name="static"))
    except ModelError as exc:
        pytest.skip(str(exc))
    session = _session()
    session.utterances = session.utterances[:size]
    for analyzer in pipeline:
        session = analyzer(session)
    headline = session.metrics[name]["headline"]
    assert 1 <= len(headline) <= 5
    assert all(_is_headline_value(v) for v in headline.values())


def test_pipeline_runs_readers_of_features_after_their_writers() -> None:
    from attunement.analysis.pipeline import available, build_pipeline

    order = [a.name for a in build_pipeline(available())]
    for reader, writers in {
        "talk": ["coding", "context"],
        "context": ["tone", "emotional_responsiveness", "semantic_responsiveness"],
        "episodes": ["tone", "context"],
    }.items():
        for w in writers:
            if w in order and reader in order:
                assert order.index(w) < order.index(reader), (w, reader)
    # a soft dependency is never added when not asked for
    assert [a.name for a in build_pipeline(["talk"])] == ["talk"]
