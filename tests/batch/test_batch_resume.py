"""`attune batch`: resuming, failed inputs, refused folders, and a batch killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_helpers import manifest, run_cli, write_transcript

pq = pytest.importorskip("pyarrow.parquet")
ds = pytest.importorskip("pyarrow.dataset")

SECRET = "Ximena Quellwater"  # would only reach an error line by quoting input


def _parts(out: Path) -> dict[str, float]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.glob("*/*.parquet")}


def test_rerun_skips_done_inputs_and_codes_new_ones(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    args = ["batch", "--fast", "--workers", "2", "--out", str(out)]
    assert run_cli([*args, str(corpus)], capsys)[0] == 0
    first = _parts(out)
    assert len(first) >= 10  # utterance and session parts of 5 inputs (+ episodes)

    write_transcript(corpus / "generated.txt", turns=30, seed=1)
    code, err = run_cli([*args, str(corpus)], capsys)
    assert code == 0, err
    doc = manifest(out)
    assert doc["counts"] == {"done": 1, "failed": 0, "skipped": 5}
    by_status = {r["path"].rsplit("/", 1)[-1]: r["status"] for r in doc["inputs"]}
    assert by_status["generated.txt"] == "done"
    now = _parts(out)
    assert {k: now[k] for k in first} == first  # nothing already done was rewritten
    skipped = [r for r in doc["inputs"] if r["status"] == "skipped"]
    assert all(r["utterances"] > 0 and len(r["sha256"]) == 64 for r in skipped)
    assert ds.dataset(out / "sessions").count_rows() == 6


def test_failed_input_is_reported_and_the_others_are_done(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus / "broken.vtt").write_text(f"WEBVTT\n\n{SECRET} \x00\x00 no cues here\n")
    (corpus / "empty.txt").write_text("")
    out = tmp_path / "results"
    code, err = run_cli(
        ["batch", "--fast", "--workers", "2", str(corpus), "--out", str(out)], capsys
    )
    assert code == 2
    doc = manifest(out)
    assert doc["counts"] == {"done": 5, "failed": 2, "skipped": 0}
    failed = {r["path"].rsplit("/", 1)[-1]: r for r in doc["inputs"] if r["status"] == "failed"}
    assert set(failed) == {"broken.vtt", "empty.txt"}
    for r in failed.values():
        assert r["error"] and "\n" not in r["error"] and r["sha256"] and r["input_id"]
        assert f"{r['path']}: {r['error']}" in err
    assert "2 of 7 inputs failed" in err.splitlines()[-1]
    assert SECRET not in err and SECRET not in (out / "manifest.json").read_text()
    assert ds.dataset(out / "sessions").count_rows() == 5


def test_other_parameters_into_the_same_folder_are_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    one = str(corpus / "cbt-sleep.srt")
    assert run_cli(["batch", "--fast", "--workers", "1", one, "--out", str(out)], capsys)[0] == 0
    code, err = run_cli(
        ["batch", "--fast", "--workers", "1", "--analyzers", "talk", one, "--out", str(out)], capsys
    )
    assert code == 2
    assert err.strip().splitlines() == [
        "attune: error: --out: holds results of another model or other parameters "
        "(see its run.json); choose a new folder"
    ]
    file_out = tmp_path / "a-file"
    file_out.write_text("x")
    code, err = run_cli(["batch", "--fast", one, "--out", str(file_out)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--out" in err


def test_a_killed_batch_leaves_whole_parts_and_a_rerun_completes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    n = 30
    for i in range(n):
        write_transcript(corpus / f"s{i:03d}.txt", turns=120, seed=i)
    out = tmp_path / "results"
    cmd = [sys.executable, "-m", "attunement.cli.main", "batch", "--fast", "--workers", "2"]
    cmd += ["-q", str(corpus), "--out", str(out)]
    proc = subprocess.Popen(cmd, start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list(out.glob("sessions/*.parquet"))) < 3:
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its worker processes
    finally:
        proc.wait(timeout=30)
    done_before = len(list(out.glob("sessions/*.parquet")))
    assert 3 <= done_before < n
    for part in out.glob("*/*.parquet"):  # every visible part is a whole Parquet file
        pq.read_metadata(part)
    for extra in (p for p in out.glob("*/*") if p.suffix != ".parquet"):
        assert extra.name.startswith(".attunement-") and extra.suffix == ".tmp"  # hidden

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    doc = manifest(out)
    assert doc["counts"]["failed"] == 0
    assert doc["counts"]["done"] + doc["counts"]["skipped"] == n
    assert doc["counts"]["skipped"] >= done_before
    sessions = ds.dataset(out / "sessions").to_table(columns=["input_id", "utterances"])
    assert sessions.num_rows == n and len(set(sessions["input_id"].to_pylist())) == n
    utts = ds.dataset(out / "utterances").count_rows()
    assert utts == sum(sessions["utterances"].to_pylist()) == n * 120
    # the rerun removed what the killed processes left half-written
    assert sorted({p.suffix for p in out.glob("*/*")}) == [".parquet"]
    assert not list(out.glob("*/.*"))
