"""`attune train` and `attune evaluate`: happy paths and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.model import Annotation, Role, Session, Speaker, Utterance


@pytest.mark.slow
def test_train_then_evaluate(
    tiny_jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model"
    assert main(["train", "--data", str(tiny_jsonl), "--out", str(out), "--min-support", "5"]) == 0
    text = capsys.readouterr().out
    assert "model written to" in text and "W_MINIMAL" in text
    assert (out / "model.json").exists()
    assert main(["evaluate", "--gold", str(tiny_jsonl), "--model", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["codes"]) >= {"W_MINIMAL", "TERMINATION_RISK", "F_PREMATURE"}
    assert report["behaviour"]["labels"][0] == "reflection_simple"
    assert 0.0 <= report["codes_macro_f1"] <= 1.0
    assert main(["evaluate", "--gold", str(tiny_jsonl), "--model", str(out)]) == 0
    assert "macro-F1" in capsys.readouterr().out


def _session(with_human: bool) -> Session:
    utts = [
        Utterance(id="u0001", index=0, speaker="T", role=Role.THERAPIST, text="What happened?"),
        Utterance(id="u0002", index=1, speaker="C", role=Role.CLIENT, text="Yeah."),
    ]
    if with_human:
        utts[0].annotations.append(Annotation(code="question_open"))
        utts[1].annotations.append(Annotation(code="W_MINIMAL"))
    else:
        utts[0].annotations.append(Annotation(code="question_closed", source="coding@1"))
        utts[1].annotations.append(Annotation(code="W_MINIMAL", source="coding@1"))
    return Session(
        id="s",
        utterances=utts,
        speakers=[Speaker(id="T", role=Role.THERAPIST), Speaker(id="C", role=Role.CLIENT)],
    )


def test_evaluate_sessions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold, pred = tmp_path / "gold.json", tmp_path / "pred.json"
    gold.write_text(_session(True).model_dump_json())
    pred.write_text(_session(False).model_dump_json())
    assert main(["evaluate", "--gold", str(gold), "--pred", str(pred), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["codes"]["W_MINIMAL"]["f1"] == 1.0
    assert r["behaviour"]["accuracy"] == 0.0


def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"role": "client", "text": "private words", "codes": []}\nnot json\n')
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.jsonl line 2" in err and "private" not in err
    assert not (tmp_path / "m").exists()
    assert (
        main(["evaluate", "--gold", str(tmp_path / "missing.jsonl"), "--model", str(tmp_path)]) == 2
    )
    assert capsys.readouterr().err.startswith("attune: error:")


@pytest.mark.slow
def test_evaluate_session_with_bundled_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "gold.json"
    gold.write_text(_session(True).model_dump_json())
    assert main(["evaluate", "--gold", str(gold), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["pred"] == "model:default" and r["behaviour"]["n"] == 1
    assert set(r["codes"]) >= {"W_MINIMAL"}
