"""Hostile and careless input never ends in `internal error`, and errors quote no content.

Every case plants the canary string in the cells, keys or text of the input and checks
that the command exits 2 with the project's own one-line error that does not contain it.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attunement.cli.main import main
from attunement.coding.card import fast_model_dir

CANARY = "CANARY_7f3a"
HUGE = "1" * 5000  # over Python's 4,300-digit int conversion limit
DEEP_JSON = "[" * 5000 + "]" * 5000
DEEP_TOML = "[" * 3000 + "]" * 3000
TRANSCRIPT = "Therapist: How was the week?\nClient: Hard. I nearly did not come.\n"
FAST = ["--analyzers", "talk,lsm"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def user_error(code: int, capsys: pytest.CaptureFixture[str]) -> str:
    """The error output of a failed command: exit 2, no internal error, no canary."""
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert code == 2, text
    assert "internal error" not in text
    assert "Traceback" not in text
    assert CANARY not in text
    assert "attune: error:" in captured.err
    return captured.err


# --- analyze -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "huge.json",
            f'{{"utterances": [{{"speaker": "T", "text": "{CANARY}", "start": {HUGE}}}]}}',
            "too many digits",
        ),
        (
            "deep.json",
            f'{{"utterances": [{{"speaker": "T", "text": "{CANARY}", "x": {DEEP_JSON}}}]}}',
            "nested more than",
        ),
        (
            "key.session.json",
            json.dumps({"schema_version": "attunement.session/1", CANARY: 1}),
            "not a valid session",
        ),
        (
            "version.json",
            json.dumps({"schema_version": f"{CANARY} v2", "utterances": []}),
            "unsupported session schema version (",
        ),
        ("codes.csv", f"speaker,text,codes\nT,Hello there.,really {CANARY}\n", "unknown code"),
        ("flag.csv", f"speaker,text,W_MINIMAL\nT,Hello there.,{CANARY}\n", "is not 1/0"),
        ("long.csv", 'speaker,text\nT,"' + CANARY + "x" * 140_000 + '"\n', "malformed CSV"),
    ],
)
def test_analyze_bad_file_is_a_user_error_without_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    err = user_error(main(["analyze", str(path), "-q", *FAST]), capsys)
    assert name in err and expected in err


def test_analyze_speaker_named_twice_is_named_by_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.txt"
    path.write_text(TRANSCRIPT.replace("Client", CANARY), encoding="utf-8")
    out = tmp_path / "s.session.json"
    assert main(["analyze", str(path), "-q", *FAST, "--json", str(out)]) == 0
    capsys.readouterr()
    code = main(["analyze", str(out), "-q", *FAST, "--therapist", CANARY, "--client", CANARY])
    err = user_error(code, capsys)
    assert "speaker 2 (in order of appearance)" in err


def test_symlink_out_of_the_folder_and_a_bad_file_do_not_stop_the_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (folder / "sub" / "c.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (folder / "b.json").write_text(f'{{"utterances": [{{"text": "{CANARY}", "x": {HUGE}}}]}}')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "target.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (folder / "linked.txt").symlink_to(elsewhere / "target.txt")
    out = tmp_path / "out"
    err = user_error(main(["analyze", str(folder), "-q", *FAST, "--json", str(out)]), capsys)
    assert len(err.strip().splitlines()) == 1 and "b.json" in err
    written = sorted(p.name for p in out.iterdir())
    assert written == ["in-a.session.json", "in-linked.session.json", "in-sub-c.session.json"]


def _run_cli(args: list[str], cwd: Path, stdout: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", "from attunement.cli.main import run; run()", *args],
        cwd=cwd,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("extra", [[], ["--json", "-"]])
def test_terminal_output_to_a_full_disk_is_one_line_and_files_are_written(
    tmp_path: Path, extra: list[str]
) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(TRANSCRIPT, encoding="utf-8")
    html = ["--html", str(tmp_path / "html")]
    with open("/dev/full", "w") as full:
        done = _run_cli(["analyze", "a.txt", "b.txt", *FAST, *extra, *html], tmp_path, full)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "attune: error: stdout: cannot write to standard output (No space left on device)"
    ]
    assert sorted(p.name for p in (tmp_path / "html").iterdir()) == ["a.html", "b.html"]


# --- train / evaluate ----------------------------------------------------------------


def _jsonl(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "data.jsonl"
    good = json.dumps({"role": "client", "text": "Fine.", "codes": []})
    path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'{{"role": "client", "text": "{CANARY}", "n": {HUGE}}}', "line 2: not valid JSON"),
        (f'{{"role": "client", "text": "{CANARY}", "n": {DEEP_JSON}}}', "line 2: nested"),
        (json.dumps({"role": "client", "text": "x", "codes": [f"really {CANARY}"]}), "unknown"),
        (json.dumps({"role": "client", "text": "x", "empathy": {CANARY: 1}}), "unknown empathy"),
        (json.dumps({"role": "client", "text": "x", "behaviour": CANARY}), "unknown behaviour"),
    ],
)
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_train_and_evaluate_jsonl_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, expected: str, command: str
) -> None:
    data = _jsonl(tmp_path, line)
    if command == "train":
        args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--encoder", "static"]
    else:
        args = ["evaluate", "--gold", str(data), "--model", str(fast_model_dir())]
    err = user_error(main(args), capsys)
    assert "data.jsonl" in err and expected in err
    assert not (tmp_path / "m").exists()


def _csv(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("session,role,text,codes\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # an unquoted comma shifts text into the codes column (and one cell further)
        (["s1,client,Fine.,", f"s1,client,I was really {CANARY}, X,"], "line 3: row has 5 cells"),
        (["s1,client,Fine.,", "s1,client"], "line 3: row has 2 cells"),
        (["s1,client,Fine.,", f's1,client,Fine.,"really {CANARY}"'], "line 3: unknown code"),
        (["s1,client,Fine.,", f's1,client,"{CANARY}{"x" * 140_000}",'], "line 3: malformed CSV"),
        ([f"s1,client,Fine.,W_MINIMAL,{CANARY}"], "line 2: row has 5 cells"),
    ],
)
def test_train_csv_cell_counts_and_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[str], expected: str
) -> None:
    data = _csv(tmp_path, rows)
    out = tmp_path / "m"
    code = main(["train", "--data", str(data), "--out", str(out), "--encoder", "static"])
    err = user_error(code, capsys)
    assert "data.csv" in err and expected in err
    assert not out.exists()


def test_train_csv_header_is_not_quoted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    data.write_text(f"role,text,{CANARY}\nclient,Fine.,x\n", encoding="utf-8")
    code = main(["train", "--data", str(data), "--out", str(tmp_path / "m")])
    assert "unknown column(s) at position 3" in user_error(code, capsys)


def test_codebook_map_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _csv(tmp_path, ["s1,client,Fine.,"])
    for content, expected in (
        (f'[map]\n"{CANARY}" = {HUGE}\n', "too many digits"),
        (f"[map]\nx = {DEEP_TOML}\n", "nested more than"),
        (f'[map]\n"{CANARY}" = "A"\n"{CANARY}" = "B"\n', "bad.toml, line 3: not valid TOML"),
        (f'[{CANARY}]\nx = "A"\n', "unknown field in (top level)"),
    ):
        cb = tmp_path / "bad.toml"
        cb.write_text(content, encoding="utf-8")
        args = ["train", "--data", str(data), "--out", str(tmp_path / "m"), "--codebook", str(cb)]
        err = user_error(main(args), capsys)
        assert "bad.toml" in err and expected in err


def test_train_with_one_class_names_the_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["session", "role", "text", "codes"])
        for s in range(6):
            for i in range(4):
                w.writerow([f"s{s}", "client", f"{CANARY} it is fine {i}", "W_MINIMAL"])
                w.writerow([f"s{s}", "therapist", f"How was week {i}?", ""])
    out = tmp_path / "m"
    code = main(["train", "--data", str(path), "--out", str(out), "--encoder", "static"])
    err = user_error(code, capsys)
    assert "code W_MINIMAL is on every client utterance" in err
    assert not out.exists()


# --- client ----------------------------------------------------------------------------


def _client(root: Path, toml: str = "", responses: tuple[str, str] | None = None) -> Path:
    folder = root / "client"
    folder.mkdir()
    (folder / "client.toml").write_text(f'client_id = "C-1"\n{toml}\n', encoding="utf-8")
    name, text = responses or (
        "responses.csv",
        "session,date,instrument,item,value\n1,2026-01-05,phq9,phq9_1,1\n",
    )
    (folder / name).write_text(text, encoding="utf-8")
    return folder


RECORD = '{"session": 1, "date": "2026-01-05", "instrument": "phq9", "item": "phq9_1"'


@pytest.mark.parametrize(
    ("toml", "responses", "expected"),
    [
        (f"{CANARY} = {HUGE}", None, "client.toml"),
        (f"therapists = {DEEP_TOML}", None, "client.toml"),
        (f'{CANARY} = "x"', None, "client.toml: unknown field in (top level)"),
        (f'[[events]]\ndate = 2026-01-05\nkind = "{CANARY}"', None, "field events.0.kind"),
        ("", ("responses.json", f"[{RECORD}, {CANARY!r}: {HUGE}}}]"), "too many digits"),
        ("", ("responses.json", f"[{RECORD}, {CANARY!r}: {DEEP_JSON}}}]"), "nested more"),
        (
            "",
            ("responses.csv", f"session,date,instrument,item,value\n1,2026-01-05,{CANARY},a,1\n"),
            "responses.csv, row 2: unknown instrument",
        ),
        (
            "",
            ("responses.csv", f"session,date,instrument,item,value\n1,2026-01-05,phq9,{CANARY},1"),
            "responses.csv, row 2: unknown item for instrument phq9",
        ),
        (
            "",
            (
                "responses.csv",
                f'session,date,instrument,item,value\n1,2026-01-05,phq9,phq9_1,"{CANARY}'
                + "x" * 140_000
                + '"\n',
            ),
            "responses.csv, line 2: malformed CSV",
        ),
    ],
)
def test_client_folder_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    toml: str,
    responses: tuple[str, str] | None,
    expected: str,
) -> None:
    folder = _client(tmp_path, toml.replace("'", '"'), responses)
    if responses is not None and responses[0] == "responses.json":
        (folder / "responses.json").write_text(responses[1].replace("'", '"'), encoding="utf-8")
    out = tmp_path / "c.json"
    err = user_error(main(["client", str(folder), "--json", str(out)]), capsys)
    assert expected in err
    assert not out.exists()


def test_evaluate_session_json_keys_are_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "gold.json"
    gold.write_text(
        json.dumps({"schema_version": "attunement.session/1", CANARY: {CANARY: 1}}),
        encoding="utf-8",
    )
    code = main(["evaluate", "--gold", str(gold), "--pred", str(gold)])
    assert "not a valid session JSON" in user_error(code, capsys)


@pytest.mark.parametrize("value", [HUGE, DEEP_JSON])
def test_hostile_model_card_is_a_model_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text(f'{{"name": "m", "{CANARY}": {value}}}', encoding="utf-8")
    (model / "heads.npz").write_bytes(b"")
    data = _jsonl(tmp_path, json.dumps({"role": "client", "text": "x", "codes": []}))
    err = user_error(main(["evaluate", "--gold", str(data), "--model", str(model)]), capsys)
    assert "model card is not valid JSON" in err
