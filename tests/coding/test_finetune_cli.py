"""`attune train --finetune`, and fine-tuned models in `attune analyze` / `attune evaluate`.

Fast tests use a stand-in coder (no torch); the slow ones fine-tune for real on the tiny
invented data of ``conftest.py`` (1 epoch, top layer only) once per module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from attunement.analysis.coding import CodingAnalyzer
from attunement.cli.main import main
from attunement.coding.finetune import FinetuneCard, FinetuneExample
from attunement.coding.finetune_apply import FinetunedPredictor, heads_for
from attunement.model import Role, Session, Speaker, Utterance

EXAMPLES = Path(__file__).resolve().parents[2] / "src/attunement/examples/sessions"
TASKS = {
    "behaviour": ["advice", "question_open"],
    "E_EXPLORATION": ["none", "weak", "strong"],
    "W_MINIMAL": ["absent", "present"],
    "F_PREMATURE": ["absent", "present"],
}
ROLES = {
    "behaviour": ["therapist"],
    "E_EXPLORATION": ["therapist"],
    "W_MINIMAL": ["client"],
    "F_PREMATURE": ["therapist"],
}


def _card(tasks: dict[str, list[str]], roles: dict[str, list[str]]) -> FinetuneCard:
    return FinetuneCard(
        base_model="test",
        tasks=tasks,
        task_roles=roles,
        max_length=32,
        context_turns=2,
        hyperparameters={},
        seed=0,
        n_train=1,
        n_valid=0,
        epochs_run=1,
        best_epoch=1,
        validation={},
        train_seconds=0.0,
        data_hash="0" * 64,
        created="2026-01-01T00:00:00Z",
    )


class FakeCoder:
    """Stands in for FinetunedCoder: questions are open questions that explore, "Yeah." is
    minimal; records what it was asked."""

    def __init__(self, card: FinetuneCard) -> None:
        self.card = card
        self.seen: list[FinetuneExample] = []

    def predict(self, examples: Sequence[FinetuneExample]) -> dict[str, np.ndarray]:
        self.seen.extend(examples)
        q = np.asarray([ex.text.endswith("?") for ex in examples], dtype=np.float32)
        y = np.asarray([ex.text == "Yeah." for ex in examples], dtype=np.float32)
        one = np.ones_like(q)
        return {
            "behaviour": np.stack([1 - 0.8 * q, 0.8 * q], axis=1),
            "E_EXPLORATION": np.stack([0.9 - 0.8 * q, 0.1 * one, 0.7 * q], axis=1),
            "W_MINIMAL": np.stack([0.9 - 0.8 * y, 0.1 + 0.8 * y], axis=1),
            "F_PREMATURE": np.stack([0.8 * one, 0.2 * one], axis=1),
        }


def _session() -> Session:
    lines = [
        (Role.THERAPIST, "How was your week?"),
        (Role.CLIENT, "Yeah."),
        (Role.THERAPIST, "You should write a list."),
        (Role.CLIENT, "We went to the lake on Sunday."),
        (Role.THERAPIST, "What happened then?"),
    ]
    return Session(
        id="s",
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


def test_heads_follow_task_kinds_and_roles() -> None:
    heads, sources = heads_for(_card(TASKS, ROLES))
    by = {h.name: h for h in heads}
    assert [h.name for h in heads[:2]] == ["client_codes", "therapist_codes"]
    assert by["client_codes"].labels == ["W_MINIMAL"] and by["client_codes"].role == "client"
    assert by["therapist_codes"].labels == ["F_PREMATURE"]
    assert by["E_EXPLORATION"].kind == "graded" and by["E_EXPLORATION"].code == "E_EXPLORATION"
    assert by["behaviour"].kind == "multiclass" and by["behaviour"].role == "therapist"
    assert sources["client_codes"] == [("W_MINIMAL", 1)]
    # an old card without task_roles: roles come from the codebook
    heads, _ = heads_for(_card(TASKS, {}))
    assert {h.name: h.role for h in heads}["client_codes"] == "client"
    # a task coded on both roles gets one head per role
    heads, _ = heads_for(_card({"talk": ["a", "b", "c"]}, {"talk": ["client", "therapist"]}))
    assert [(h.name, h.role) for h in heads] == [
        ("talk_client", "client"),
        ("talk_therapist", "therapist"),
    ]


def test_analyzer_writes_finetuned_codes_like_linear_ones() -> None:
    coder = FakeCoder(_card(TASKS, ROLES))
    analyzer = CodingAnalyzer(FinetunedPredictor(coder, name="lab"))
    s = analyzer(_session())
    assert [ex.role for ex in coder.seen] == [u.role.value for u in s.utterances]
    assert coder.seen[-1].context == (
        ("therapist", "You should write a list."),
        ("client", "We went to the lake on Sunday."),
    )  # the 2 turns before it, as in training

    def codes(i: int) -> dict[str, tuple[float, str | None]]:
        return {
            a.code: (a.probability, a.level)
            for a in s.utterances[i].annotations
            if a.source == "coding@1"
        }

    assert set(codes(0)) == {"question_open", "E_EXPLORATION"}
    assert codes(0)["E_EXPLORATION"][1] == "strong"
    assert codes(0)["E_EXPLORATION"][0] == pytest.approx(0.8)  # P(weak) + P(strong)
    assert s.utterances[0].features["p_E_EXPLORATION_strong"] == pytest.approx(0.7)
    assert set(codes(1)) == {"W_MINIMAL"} and codes(1)["W_MINIMAL"][0] == pytest.approx(0.9)
    assert set(codes(2)) == {"advice"}  # one behaviour per therapist turn, no F_ below 0.5
    assert codes(3) == {}  # client turn: no therapist head applied
    assert "p_E_EXPLORATION_weak" not in s.utterances[3].features
    m = s.metrics["coding"]
    assert m["model"]["name"] == "lab" and m["counts"]["W_MINIMAL"] == 1
    assert m["headline"]["Rupture markers"] == 1
    assert m["empathy_levels"] == {"E_EXPLORATION": {"strong": 2}}
    assert s.provenance == ["coding@1"]


def test_cli_help_and_default_analysis_do_not_import_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from attunement.cli.main import main\n"
        "assert main(['--help']) == 0\n"
        "assert main(['train', '--help']) == 0\n"
        f"assert main(['analyze', {str(EXAMPLES / 'cheerful-goodbye.txt')!r}, '-q',"
        f" '--json', {str(tmp_path / 's.json')!r}]) == 0\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "--finetune" in r.stdout


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (["--epochs", "2"], "--epochs applies only with --finetune"),
        (["--finetune", "--encoder", "minilm"], "--encoder does not apply"),
        (["--finetune", "--epochs", "0"], "--epochs must be at least 1"),
        (["--finetune", "--train-layers", "7"], "--train-layers must be between 1 and 6"),
        (["--finetune", "--valid-fraction", "1"], "--valid-fraction must be in [0, 1)"),
    ],
)
def test_train_option_errors(
    tiny_jsonl: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    msg: str,
) -> None:
    out = tmp_path / "m"
    assert main(["train", "--data", str(tiny_jsonl), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and msg in err
    assert not out.exists()


def test_finetune_missing_torch_is_one_line(
    tiny_jsonl: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # find_spec → None, import fails
    out = tmp_path / "m"
    assert main(["train", "--data", str(tiny_jsonl), "--out", str(out), "--finetune"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "torch" in err and "attunement[embed]" in err
    assert not out.exists()
    # analyzing with a fine-tuned model folder says the same
    (tmp_path / "ft").mkdir()
    (tmp_path / "ft" / "finetune.json").write_text("{}")
    story = str(EXAMPLES / "cheerful-goodbye.txt")
    assert main(["analyze", story, "-q", "--model", str(tmp_path / "ft")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "attunement[embed]" in err


def test_finetune_too_little_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "small.csv"
    data.write_text(
        "session,role,text,codes,behaviour\n"
        "a,therapist,How are you?,,question_open\n"
        "a,client,Private words.,W_MINIMAL,\n"
        "b,therapist,Try a list.,,advice\n",
        encoding="utf-8",
    )
    out = tmp_path / "m"
    assert main(["train", "--data", str(data), "--out", str(out), "--finetune"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing to fine-tune" in err and "Private" not in err
    assert not out.exists()


# --- real fine-tuning (slow) -------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tiny_jsonl_module: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ftcli") / "lab-ft"
    argv = ["train", "--data", str(tiny_jsonl_module), "--out", str(out), "--finetune"]
    argv += ["--epochs", "1", "--train-layers", "1", "--min-support", "5", "--seed", "3"]
    assert main(argv) == 0
    return out


@pytest.mark.slow
def test_train_finetune_writes_model_and_report(trained: Path) -> None:
    card = json.loads((trained / "finetune.json").read_text())
    assert set(card["tasks"]) >= {"behaviour", "W_MINIMAL", "E_EMOTIONAL_REACTION"}
    assert card["task_roles"]["W_MINIMAL"] == ["client"]
    assert card["seed"] == 3 and card["hyperparameters"]["train_layers"] == 1
    assert card["training"]["data"] == "tiny.jsonl" and len(card["training"]["data_sha256"]) == 64
    assert card["created_by"].startswith("attune train --finetune")
    assert card["n_valid"] > 0 and card["validation"]


@pytest.mark.slow
def test_train_finetune_prints_validation(
    trained: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report printing, fed by the trained folder's card (no second training run)."""
    from attunement.coding import finetune_apply
    from attunement.coding.finetune import FinetuneReport

    card = FinetuneCard.model_validate_json((trained / "finetune.json").read_text())
    validation = {
        "n": 2,
        "codes": {"W_MINIMAL": {"precision": 1, "recall": 1, "f1": 1, "kappa": 1, "support": 1}},
        "codes_macro_f1": 1.0,
        "empathy": {},
    }
    result = finetune_apply.FinetuneResult(
        FinetuneReport(trained, card), validation, {"C_REJECTS": "too few"}
    )
    monkeypatch.setattr(finetune_apply, "finetune_from_path", lambda *a, **k: result)
    argv = ["train", "--data", "x.jsonl", "--out", str(trained), "--finetune"]
    assert main(argv) == 0
    cap = capsys.readouterr()
    assert "fine-tuned model written to" in cap.out and "Validation: codes" in cap.out
    assert "W_MINIMAL" in cap.out and "skipped C_REJECTS" in cap.err
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["validation"] == validation and out["best_epoch"] == 1


@pytest.mark.slow
def test_analyze_and_evaluate_with_finetuned_model(
    trained: Path, tiny_jsonl_module: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = json.loads((trained / "finetune.json").read_text())
    story = str(EXAMPLES / "cheerful-goodbye.txt")
    assert main(["analyze", story, "--model", str(trained), "--json", "-"]) == 0
    s = json.loads(capsys.readouterr().out)
    client_codes = {t for t, r in card["task_roles"].items() if r == ["client"]}
    behaviours = set(card["tasks"]["behaviour"])
    seen: set[str] = set()
    for u in s["utterances"]:
        mine = [a for a in u["annotations"] if a["source"] == "coding@1"]
        seen.update(a["code"] for a in mine)
        assert all(0.0 <= a["probability"] <= 1.0 for a in mine)
        if u["role"] == "therapist":
            assert sum(a["code"] in behaviours for a in mine) == 1
            assert not {a["code"] for a in mine} & client_codes
            assert "p_E_EMOTIONAL_REACTION_weak" in u["features"]
            assert all(a["level"] in ("weak", "strong") for a in mine if a["code"][:2] == "E_")
        else:
            assert {a["code"] for a in mine} <= client_codes
    assert seen & behaviours and seen <= set(card["tasks"]) | behaviours
    assert s["metrics"]["coding"]["model"]["name"] == "lab-ft"
    assert "coding@1" in s["provenance"]
    # attune evaluate codes a corpus file with it
    argv = ["evaluate", "--gold", str(tiny_jsonl_module), "--model", str(trained), "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pred"] == "model:lab-ft" and "W_MINIMAL" in report["codes"]
