from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.model import Session

GOOD = "Therapist: How are you today?\nClient: Fine. I guess.\nTherapist: Just fine?\n"
FAST = ["--analyzers", "talk,lsm"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def good(tmp_path: Path) -> Path:
    p = tmp_path / "in" / "week1.txt"
    p.parent.mkdir()
    p.write_text(GOOD)
    return p


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    p = tmp_path / "in" / "broken.vtt"
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(b"\x00\x01\x02 no speakers here \x00")
    return p


def test_good_run_writes_every_output(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        ["analyze", str(good), *FAST, "--html", str(out), "--json", str(out),
         "--markdown", str(out / "r.md"), "--client-id", "c7", "--session-number", "3",
         "--date", "2026-03-09"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert sorted(os.listdir(out)) == ["r.md", "week1.html", "week1.session.json"]
    s = Session.model_validate_json((out / "week1.session.json").read_text())
    assert s.meta.client_id == "c7" and s.meta.session_number == 3
    assert str(s.meta.date) == "2026-03-09"
    assert [p.split("@")[0] for p in s.provenance] == ["talk", "lsm"]
    assert "week1.txt" in captured.out  # terminal summary
    assert "not diagnoses" in captured.out


def test_quiet_and_json_to_stdout(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(good), *FAST, "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert Session.model_validate_json(out).source == "week1.txt"  # nothing else on stdout
    assert main(["analyze", str(good), *FAST, "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_bad_file_one_line_exit_2_no_output(
    bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(["analyze", str(bad), *FAST, "--html", str(out / "x.html"), "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"attune: error: {bad}: ")
    assert "Traceback" not in err
    assert not out.exists() or os.listdir(out) == []


def test_many_files_continue_past_a_bad_one(
    good: Path, bad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = good.parent / "week2.txt"
    second.write_text(GOOD)
    out = tmp_path / "out"
    code = main(["analyze", str(good), str(bad), str(second), *FAST, "-q", "--json", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("attune: error:") == 1 and "broken.vtt" in err
    assert sorted(os.listdir(out)) == ["week1.session.json", "week2.session.json"]

    out2 = tmp_path / "out2"
    code = main(["analyze", str(bad), str(good), *FAST, "-q", "--fail-fast", "--json", str(out2)])
    assert code == 2
    assert os.listdir(out2) == []


def test_folder_argument_and_missing_file(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (good.parent / "README.md").write_text("# not a transcript")
    out = tmp_path / "out"
    code = main(["analyze", str(good.parent), str(tmp_path / "nope.txt"), *FAST, "-q",
                 "--json", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "nope.txt" in err and err.count("\n") == 1
    assert os.listdir(out) == ["in-week1.session.json"]


def test_cheap_analyzers_never_load_the_encoder(
    good: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import attunement.analysis.base as base

    def refuse(name: str = "static") -> object:
        raise AssertionError("encoder loaded")

    monkeypatch.setattr(base, "load_encoder", refuse)
    assert main(["analyze", str(good), *FAST, "-q", "--encoder", "minilm"]) == 0


def test_user_errors_in_options(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(good), "--analyzers", "nonsense"]) == 2
    assert "unknown analyzer" in capsys.readouterr().err
    assert main(["analyze", str(good), *FAST, "--date", "yesterday"]) == 2
    assert "--date" in capsys.readouterr().err


def test_full_pipeline_on_an_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import resources

    example = resources.files("attunement") / "examples/sessions/cheerful-goodbye.txt"
    code = main(["analyze", str(example), "-q", "--html", str(tmp_path / "r.html")])
    assert code == 0, capsys.readouterr().err
    html = (tmp_path / "r.html").read_text()
    assert "Rupture episodes" in html and "<svg" in html


def test_codes_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = [c["id"] for c in data["codes"]]
    assert "C_PARAMETERS" in ids and "R_LINK_HISTORY" in ids
    assert main(["codes", "--family", "failure"]) == 0
    out = capsys.readouterr().out
    assert "F_IGNORE" in out and "W_DENIAL" not in out
    assert main(["codes", "--family", "nope"]) == 2


def test_json_lines_on_stdout_for_many_inputs(
    good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = good.parent / "week2.txt"
    second.write_text(GOOD.replace("Fine", "Okay"))
    assert main(["analyze", str(good), str(second), *FAST, "--json", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [Session.model_validate_json(line).source for line in lines] == [
        "week1.txt",
        "week2.txt",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--encoder", "minilm"], ["--fast"]])
def test_json_to_stdout_is_only_json(good: Path, extra: list[str]) -> None:
    """Library load reports and progress bars must never reach stdout."""
    import subprocess
    import sys

    if extra[:2] == ["--encoder", "minilm"]:
        pytest.importorskip("sentence_transformers")
    cmd = [sys.executable, "-c", "from attunement.cli.main import run; run()"]
    proc = subprocess.run(
        [*cmd, "analyze", str(good), "--json", "-", *extra],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    doc = json.loads(proc.stdout)
    assert doc["utterances"]
