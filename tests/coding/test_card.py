"""Model directory: save/load round trip and strict validation on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attunement.coding.card import (
    CodingModel,
    EncoderSpec,
    FeatureRecipe,
    HeadSpec,
    ModelCard,
    load_model,
    save_model,
)
from attunement.coding.features import Item
from attunement.coding.predict import Predictor
from attunement.errors import ModelError


class _ToyEncoder:
    """A deterministic 4-d test encoder (bag of letters), enough to exercise shapes."""

    name = "toy"
    dim = 4

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t.lower():
                out[i, ord(ch) % 4] += 1
        n = np.linalg.norm(out, axis=1, keepdims=True)
        n[n == 0] = 1
        return out / n


def _model(d_enc: int = 4) -> CodingModel:
    recipe = FeatureRecipe(context=["prev"], lexical=False)
    d = 2 * d_enc
    rng = np.random.default_rng(0)
    card = ModelCard(
        name="toy",
        version="1",
        encoders=[EncoderSpec(load="toy", name="toy", dim=d_enc)],
        features=recipe,
        input_dim=d,
        heads=[
            HeadSpec(name="client_codes", kind="multilabel", role="client", labels=["W_MINIMAL"]),
            HeadSpec(
                name="E_EXPLORATION",
                kind="graded",
                role="therapist",
                labels=["none", "weak", "strong"],
                code="E_EXPLORATION",
            ),
        ],
    )
    arrays = {
        "mean": np.zeros(d, np.float32),
        "scale": np.ones(d, np.float32),
        "W_client_codes": rng.normal(size=(d, 1)).astype(np.float32),
        "b_client_codes": np.zeros(1, np.float32),
        "W_E_EXPLORATION": rng.normal(size=(d, 3)).astype(np.float32),
        "b_E_EXPLORATION": np.zeros(3, np.float32),
    }
    return CodingModel(card, arrays)


def test_round_trip(tmp_path: Path) -> None:
    m = _model()
    out = save_model(m, tmp_path / "m")
    assert sorted(p.name for p in out.iterdir()) == ["heads.npz", "model.json"]
    back = load_model(out)
    assert back.card == m.card
    for k, v in m.arrays.items():
        np.testing.assert_array_equal(back.arrays[k], v)
    items = [Item("client", "Yeah.", [("therapist", "How was it?")]), Item("therapist", "Hm?")]
    p1 = Predictor(m, [_ToyEncoder()]).predict(items)
    p2 = Predictor(back, [_ToyEncoder()]).predict(items)
    np.testing.assert_allclose(p1["E_EXPLORATION"], p2["E_EXPLORATION"])
    assert p1["E_EXPLORATION"].sum(axis=1) == pytest.approx([1.0, 1.0])
    # overwriting an existing model directory works and leaves no temp folders behind
    save_model(m, out)
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_loader_rejects_malformed(tmp_path: Path) -> None:
    out = save_model(_model(), tmp_path / "m")
    card = json.loads((out / "model.json").read_text())
    with pytest.raises(ModelError, match="not a coding model"):
        load_model(tmp_path)
    (out / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(out)
    bad = dict(card, input_dim=99)
    (out / "model.json").write_text(json.dumps(bad))
    with pytest.raises(ModelError, match="input_dim"):
        load_model(out)
    bad = dict(card, format="something/9")
    (out / "model.json").write_text(json.dumps(bad))
    with pytest.raises(ModelError, match="unsupported model format"):
        load_model(out)
    bad = dict(card, heads=[dict(card["heads"][0], kind="nonsense")])
    (out / "model.json").write_text(json.dumps(bad))
    with pytest.raises(ModelError, match="heads"):
        load_model(out)
    (out / "model.json").write_text(json.dumps(card))
    (out / "heads.npz").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="weights"):
        load_model(out)


def test_encoder_dimension_mismatch() -> None:
    class Wide(_ToyEncoder):
        dim = 8

    with pytest.raises(ModelError, match="dimension"):
        Predictor(_model(), [Wide()])
