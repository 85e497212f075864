"""The bundled model loads and codes clearly marked invented lines as a clinician would."""

from __future__ import annotations

import pytest

from attunement.analysis.base import PipelineContext
from attunement.analysis.coding import CodingAnalyzer
from attunement.coding.card import default_model_dir, load_model
from attunement.model import Role, Session, Speaker, Utterance

LINES = [
    (Role.THERAPIST, "How have things been since we last met?"),
    (Role.CLIENT, "I can't afford to keep coming, so this is my last session."),
    (Role.THERAPIST, "Can you tell me more about what this decision feels like for you?"),
    (Role.CLIENT, "Dunno."),
    (Role.THERAPIST, "What comes up when you picture not coming here anymore?"),
    (Role.CLIENT, "You never remember anything I tell you. You don't really listen to me."),
]


def _session() -> Session:
    return Session(
        id="invented",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="T" if r is Role.THERAPIST else "C",
                role=r,
                text=t,
            )
            for i, (r, t) in enumerate(LINES)
        ],
    )


def test_shipped_model_card_is_small_and_valid() -> None:
    path = default_model_dir()
    model = load_model(path)
    assert sum(p.stat().st_size for p in path.iterdir()) < 2_000_000
    assert model.card.encoders[0].load == "e5"
    assert "TERMINATION_RISK" in model.card.codes()
    assert model.card.validation.get("test"), "card must carry held-out test scores"
    assert "corpus/v2" in model.card.training["data"]
    # calibrated heads: a decision cut per code, never below "more likely than not"
    for head in model.card.heads:
        if head.kind == "multilabel":
            assert set(head.decision) == set(head.labels)
            assert all(0.5 <= t < 1.0 for t in head.decision.values())


def test_fast_model_is_shipped_beside_the_default() -> None:
    from attunement.coding.card import fast_model_dir

    fast = load_model(fast_model_dir())
    assert fast.card.encoders[0].load == "static"
    assert set(fast.card.codes()) == set(load_model(default_model_dir()).card.codes())


def _coded(name: str) -> Session:
    path = default_model_dir().parent / name
    if not (path / "model.json").exists():
        pytest.skip(f"no {name} model shipped")
    return CodingAnalyzer.from_context(PipelineContext(model_dir=path))(_session())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["default", "fast"])
def test_shipped_model_codes_clear_lines(name: str) -> None:
    s = _coded(name)
    ending, minimal, complaint = s.utterances[1], s.utterances[3], s.utterances[5]
    assert minimal.has_code("W_MINIMAL")
    assert not ending.has_code("W_MINIMAL") and not minimal.has_code("TERMINATION_RISK")
    for invite in (s.utterances[2], s.utterances[4]):
        assert invite.has_code("E_EXPLORATION")
    if name == "default":
        assert complaint.has_code("C_THERAPIST")
        for invite in (s.utterances[2], s.utterances[4]):
            assert invite.has_code("question_open")


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="corpus-v2 models: an explicit 'can't afford it, last session' stays below the "
    "C_PARAMETERS / TERMINATION_RISK cuts without the context rules (which do flag it)",
)
@pytest.mark.parametrize("name", ["default", "fast"])
def test_shipped_model_codes_explicit_ending(name: str) -> None:
    ending = _coded(name).utterances[1]
    assert ending.has_code("C_PARAMETERS") and ending.has_code("TERMINATION_RISK")
