"""Fine-tuning trainer: trains, saves atomically, reloads, predicts, is seeded, rejects bad data.

The data is a tiny invented set (written for this test, no real sessions); one epoch at
max_length 32 with only the top layer trained keeps the test to a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attunement.coding.finetune import FinetunedCoder, FinetuneExample, carve_validation, finetune
from attunement.errors import ModelError

pytestmark = pytest.mark.slow

TASKS = {"behaviour": ["question", "reflection", "other"], "talk": ["change", "sustain"]}
_Q = ["How was your week?", "What do you want to change?", "When did that start?"]
_R = ["You feel stuck at work.", "It sounds like you are tired.", "You want more time."]
_O = ["Okay.", "Let's begin.", "Thanks for coming."]
_C = ["I want to cut down.", "I could try walking more.", "I am ready to stop."]
_S = ["I like drinking.", "I don't see a problem.", "It helps me relax."]


def _data() -> list[FinetuneExample]:
    out = []
    for i in range(3):
        g = f"s{i}"
        ctx = (("client", "My week was hard."),)
        out += [
            FinetuneExample(_Q[i], "therapist", ctx, {"behaviour": "question"}, g),
            FinetuneExample(_R[i], "therapist", ctx, {"behaviour": "reflection"}, g),
            FinetuneExample(_O[i], "therapist", (), {"behaviour": "other"}, g),
            FinetuneExample(_C[i], "client", (("therapist", _Q[i]),), {"talk": "change"}, g),
            FinetuneExample(_S[i], "client", (("therapist", _Q[i]),), {"talk": "sustain"}, g),
        ]
    extra = FinetuneExample("Tell me more.", "therapist", (), {"behaviour": "question"}, "s3")
    return [*out, extra]


def _train(out: Path, seed: int = 0) -> FinetunedCoder:
    train, valid = carve_validation(_data(), 0.25, seed=0)
    finetune(
        train, valid, TASKS, out, epochs=1, batch_size=8, max_length=32, train_layers=1, seed=seed
    )
    return FinetunedCoder.load(out)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ft") / "m"
    _train(out)
    return out


def test_train_save_load_predict(trained: Path) -> None:
    coder = FinetunedCoder.load(trained)
    card = json.loads((trained / "finetune.json").read_text())
    assert card["tasks"] == TASKS and card["seed"] == 0 and len(card["data_hash"]) == 64
    assert card["task_roles"] == {"behaviour": ["therapist"], "talk": ["client"]}
    assert (trained / "model.safetensors").is_file()
    assert not [p for p in trained.parent.iterdir() if p.name.startswith(".")]  # no temp left
    ex = _data()[:7]
    probs = coder.predict(ex)
    assert set(probs) == set(TASKS)
    for task, labs in TASKS.items():
        assert probs[task].shape == (7, len(labs))
        assert np.allclose(probs[task].sum(axis=1), 1.0, atol=1e-5)
    assert coder.predict([])["talk"].shape == (0, 2)


def test_same_seed_same_predictions(trained: Path, tmp_path: Path) -> None:
    a = FinetunedCoder.load(trained).predict(_data())
    b = _train(tmp_path / "b").predict(_data())
    for task in TASKS:
        np.testing.assert_allclose(a[task], b[task], atol=1e-6)


def test_carve_validation_keeps_groups_apart() -> None:
    train, valid = carve_validation(_data(), 0.3, seed=1)
    assert valid and {e.group for e in train}.isdisjoint({e.group for e in valid})


@pytest.mark.parametrize(
    ("train", "tasks", "msg"),
    [
        ([], TASKS, "no training examples"),
        ([FinetuneExample("Hi.", labels={"behaviour": "advice"})], TASKS, "unknown label"),
        ([FinetuneExample("Hi.", labels={"mood": "x"})], TASKS, "unknown task"),
        ([FinetuneExample("Hi.", role="nurse")], TASKS, "role"),
        (_data(), {}, "no tasks"),
        (_data(), {"behaviour": ["question"]}, "two or more"),
        (
            [FinetuneExample("Hi.", labels={"behaviour": "other"})],
            TASKS,
            "no labelled training examples",
        ),
    ],
)
def test_bad_input_raises_model_error(
    tmp_path: Path, train: list[FinetuneExample], tasks: dict[str, list[str]], msg: str
) -> None:
    with pytest.raises(ModelError, match=msg):
        finetune(train, [], tasks, tmp_path / "m", epochs=1)
    assert not (tmp_path / "m").exists()


def test_load_rejects_non_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not a fine-tuned model folder"):
        FinetunedCoder.load(tmp_path)


def test_from_coding_examples_builds_tasks() -> None:
    from attunement.coding.data import Example
    from attunement.coding.features import Item
    from attunement.coding.finetune_data import from_coding_examples

    ex = []
    for i in range(20):
        beh = "question_open" if i % 2 else "reflection_simple"
        ex.append(Example(f"t{i}", "s", Item("therapist", "Q?", []), None, {}, beh, "x"))
        codes = {"W_MINIMAL"} if i % 2 else set()
        ex.append(Example(f"c{i}", "s", Item("client", "Fine.", []), codes, {}, None, "x"))
    out, tasks = from_coding_examples(ex)
    assert tasks == {
        "behaviour": ["question_open", "reflection_simple"],
        "W_MINIMAL": ["absent", "present"],
    }
    assert len(out) == 40
    assert {x.labels.get("W_MINIMAL") for x in out if x.role == "client"} == {"absent", "present"}
