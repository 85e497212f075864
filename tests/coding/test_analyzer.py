"""The coding analyzer's contract on a small invented session."""

from __future__ import annotations

from pathlib import Path

import pytest

from attunement.analysis.base import PipelineContext
from attunement.analysis.coding import CodingAnalyzer
from attunement.coding.train import train_from_path
from attunement.model import Annotation, Role, Session, Speaker, Utterance, default_codebook


def _session() -> Session:
    lines = [
        (Role.THERAPIST, "How have things been since we last met?"),
        (Role.CLIENT, "I can't afford to keep coming, so this is my last session."),
        (Role.THERAPIST, "I'm so sorry, that must be hard. Can you tell me more about that?"),
        (Role.CLIENT, "Yeah."),
        (Role.THERAPIST, "You should try writing a list before you go to bed."),
    ]
    return Session(
        id="s1",
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
        utterances=[
            Utterance(
                id=f"u{i + 1:04d}",
                index=i,
                speaker="T" if r is Role.THERAPIST else "C",
                role=r,
                text=t,
            )
            for i, (r, t) in enumerate(lines)
        ],
    )


@pytest.mark.slow
def test_analyzer_contract(tiny_jsonl: Path, tmp_path: Path) -> None:
    train_from_path(tiny_jsonl, tmp_path / "m", min_support=5)
    analyzer = CodingAnalyzer.from_context(PipelineContext(model_dir=tmp_path / "m"))
    s = _session()
    s.utterances[1].annotations.append(Annotation(code="W_DENIAL", source="human"))
    out = analyzer(s)
    cb = default_codebook()
    client_codes = set(cb.ids("withdrawal", "confrontation", "client_flag"))
    for u in out.utterances:
        mine = [a for a in u.annotations if a.source == "coding@1"]
        assert all(0.0 <= a.probability <= 1.0 for a in mine)
        if u.role is Role.CLIENT:
            assert {a.code for a in mine} <= client_codes
        else:
            assert not {a.code for a in mine} & client_codes
            assert sum(a.code in cb.ids("behaviour") for a in mine) == 1
            assert all(a.level in ("weak", "strong") for a in mine if a.code.startswith("E_"))
    assert any(a.source == "human" for a in out.utterances[1].annotations)  # kept
    m = out.metrics["coding"]
    assert 1 <= len(m["headline"]) <= 5
    assert "Rupture markers" in m["headline"] and "Empathic responses %" in m["headline"]
    assert out.provenance == ["coding@1"]
    # re-running replaces its own results instead of duplicating them
    n = sum(len(u.annotations) for u in out.utterances)
    again = analyzer(out)
    assert sum(len(u.annotations) for u in again.utterances) == n
    # clearly marked lines from the fixture's own vocabulary are coded as such
    assert out.utterances[1].has_code("TERMINATION_RISK")
    assert out.utterances[3].has_code("W_MINIMAL")
