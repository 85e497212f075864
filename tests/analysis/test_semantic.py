"""Semantic responsiveness with an exact bag-of-words encoder and the real encoders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from attunement.analysis.base import PipelineContext
from attunement.analysis.lexicons import tokenize
from attunement.analysis.semantic import SemanticResponsiveness
from attunement.errors import ModelError
from attunement.model import Role, Session, Speaker, Utterance

T, C = Role.THERAPIST, Role.CLIENT


class BagOfWords:
    """Word-count vectors over a fixed vocabulary: cosines are known in closed form."""

    name = "bag-of-words"

    def __init__(self, vocab: Sequence[str]) -> None:
        self.index = {w: i for i, w in enumerate(vocab)}
        self.dim = len(vocab)
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        m = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in tokenize(t):
                if w in self.index:
                    m[i, self.index[w]] += 1
        n = np.linalg.norm(m, axis=1, keepdims=True)
        n[n == 0] = 1
        return m / n


def _session(lines: list[tuple[Role, str]]) -> Session:
    return Session(
        id="s",
        speakers=[Speaker(id="T", role=T), Speaker(id="C", role=C)],
        utterances=[
            Utterance(id=f"u{i + 1:04d}", index=i, speaker="T" if r is T else "C", role=r, text=t)
            for i, (r, t) in enumerate(lines)
        ],
    )


def test_cosine_per_reply_and_summary() -> None:
    enc = BagOfWords(["sister", "angry", "car", "week", "money"])
    s = _session(
        [
            (T, "Hello."),
            (C, "sister angry"),
            (T, "sister angry"),  # cosine 1
            (C, "sister angry"),
            (T, "sister car"),  # cosine 0.5
            (C, "money"),
            (T, "week"),  # cosine 0
        ]
    )
    out = SemanticResponsiveness(enc)(s)
    assert enc.calls == 1  # one batch for the whole session
    f = [u.features.get("semantic_responsiveness") for u in out.utterances]
    assert f[0] is None and f[1] is None
    assert f[2] == pytest.approx(1.0) and f[4] == pytest.approx(0.5) and f[6] == pytest.approx(0.0)
    m = out.metrics["semantic_responsiveness"]
    assert m["n"] == 3
    assert m["mean"] == pytest.approx(0.5) and m["median"] == pytest.approx(0.5)
    assert [x["reply"] for x in m["lowest"]] == ["u0007", "u0005", "u0003"]
    assert m["by_third"] == pytest.approx([1.0, 0.5, 0.0])
    assert m["trend_last_minus_first"] == pytest.approx(-1.0)
    assert 1 <= len(m["headline"]) <= 5


def test_no_exchanges() -> None:
    out = SemanticResponsiveness(BagOfWords(["a"]))(_session([(T, "Hello."), (T, "Sit down.")]))
    m = out.metrics["semantic_responsiveness"]
    assert m["n"] == 0 and m["mean"] is None and m["headline"]["Exchanges"] == 0


def _real(name: str) -> SemanticResponsiveness:
    try:
        return SemanticResponsiveness.from_context(PipelineContext(encoder_name=name))
    except ModelError as exc:  # the static encoder is built by `make setup`
        pytest.skip(str(exc))


def _on_vs_off(analyzer: SemanticResponsiveness) -> tuple[float, float]:
    client = "My sister yelled at me at the wedding and I left in tears."
    s = _session(
        [
            (C, client),
            (T, "Your sister shouted at you at the wedding and you ended up crying."),
            (C, client),
            (T, "Let's book the next appointment for Thursday at four."),
        ]
    )
    f = analyzer(s).utterances
    on, off = f[1].features["semantic_responsiveness"], f[3].features["semantic_responsiveness"]
    assert on is not None and off is not None
    return on, off


def test_static_encoder_prefers_on_topic_reply() -> None:
    on, off = _on_vs_off(_real("static"))
    assert on > off


@pytest.mark.slow
def test_minilm_encoder_prefers_on_topic_reply() -> None:
    on, off = _on_vs_off(_real("minilm"))
    assert on > off + 0.2
