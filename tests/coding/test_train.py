"""Training: reproducibility, skipping rare codes, and clean errors on bad data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from attunement.coding.card import load_model
from attunement.coding.data import load_codebook_map, read_examples
from attunement.coding.train import TrainConfig, fit_model, split_groups, train_from_path
from attunement.errors import ModelError, SchemaError


def test_split_is_group_aware_and_seeded() -> None:
    groups = [f"g{i // 5}" for i in range(100)]
    a = split_groups(groups, 0.2, seed=3)
    assert (a == split_groups(groups, 0.2, seed=3)).all()
    for g in set(groups):
        rows = {bool(a[i]) for i, x in enumerate(groups) if x == g}
        assert len(rows) == 1  # a group is never split
    assert a.sum() == 20


@pytest.mark.slow
def test_training_is_reproducible(tiny_jsonl: Path, tmp_path: Path) -> None:
    r1 = train_from_path(tiny_jsonl, tmp_path / "a", seed=1, min_support=5)
    r2 = train_from_path(tiny_jsonl, tmp_path / "b", seed=1, min_support=5)
    m1, m2 = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    assert m1.arrays.keys() == m2.arrays.keys()
    for k in m1.arrays:
        np.testing.assert_array_equal(m1.arrays[k], m2.arrays[k])
    assert r1.report == r2.report
    card = m1.card
    assert {h.name for h in card.heads} == {
        "client_codes",
        "therapist_codes",
        "E_EMOTIONAL_REACTION",
        "E_EXPLORATION",
        "behaviour",
    }
    assert "E_INTERPRETATION" in card.skipped  # only 'none' in the data
    assert card.training["data_sha256"] and card.training["n_valid"] > 0
    assert card.head("client_codes").labels == ["W_MINIMAL", "C_PARAMETERS", "TERMINATION_RISK"]


@pytest.mark.slow
def test_rare_code_is_skipped_and_nothing_to_train_errors(tmp_path: Path) -> None:
    recs = [
        {
            "group": f"g{i % 4}",
            "role": "client",
            "text": f"line {i}",
            "codes": ["W_DENIAL"] if i < 3 else [],
        }
        for i in range(40)
    ]
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs))
    with pytest.raises(ModelError, match="nothing to train"):
        fit_model(read_examples(p), TrainConfig(min_support=8))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_data_errors_name_the_line(tmp_path: Path) -> None:
    good = json.dumps({"role": "client", "text": "hello", "codes": []})
    p = _write(tmp_path, "a.jsonl", good + "\n{broken\n")
    with pytest.raises(SchemaError, match=r"a.jsonl line 2: not valid JSON"):
        read_examples(p)
    p = _write(tmp_path, "b.jsonl", json.dumps({"role": "client", "text": "x", "codes": ["NOPE"]}))
    with pytest.raises(SchemaError, match=r"b.jsonl line 1: unknown code 'NOPE'"):
        read_examples(p)
    p = _write(tmp_path, "c.jsonl", json.dumps({"role": "doctor", "text": "x"}))
    with pytest.raises(SchemaError, match="role"):
        read_examples(p)
    p = _write(tmp_path, "d.jsonl", "\n\n")
    with pytest.raises(SchemaError, match="no coded utterances"):
        read_examples(p)
    p = _write(tmp_path, "e.csv", "role,text,mood\nclient,hi,x\n")
    with pytest.raises(SchemaError, match=r"unknown column\(s\) at position 3"):
        read_examples(p)
    p = _write(tmp_path, "f.csv", "role,codes\nclient,\n")
    with pytest.raises(SchemaError, match="needs columns"):
        read_examples(p)


def test_csv_with_lab_codebook(tmp_path: Path) -> None:
    cm = _write(
        tmp_path, "map.toml", '[map]\n"WD-MIN" = "W_MINIMAL"\n[codes]\nCHANGE_TALK = "client"\n'
    )
    csv = _write(
        tmp_path,
        "s.csv",
        "session,role,text,codes,E_EXPLORATION,behaviour\n"
        "s1,therapist,What brings you here?,,strong,question_open\n"
        "s1,client,Yeah.,WD-MIN,,\n"
        "s1,client,I want to cut down.,CHANGE_TALK;WD-MIN,,\n",
    )
    ex = read_examples(csv, load_codebook_map(cm))
    assert [e.codes for e in ex] == [set(), {"W_MINIMAL"}, {"CHANGE_TALK", "W_MINIMAL"}]
    assert ex[0].empathy == {"E_EXPLORATION": "strong"} and ex[0].behaviour == "question_open"
    assert ex[2].item.context == [("therapist", "What brings you here?"), ("client", "Yeah.")]
    bad = _write(tmp_path, "bad.toml", "[codes]\nX = 'dog'\n")
    with pytest.raises(SchemaError, match=r"bad\.toml"):
        load_codebook_map(bad)
