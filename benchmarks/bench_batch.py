"""How fast does `attune batch` code a corpus? Single process vs local engine vs Ray.

Run: ``python benchmarks/bench_batch.py --json benchmarks/results/batch.json`` (then
``python benchmarks/render_docs.py``). Reports, each against the single-process baseline
of the same run, on the same generated corpus (``--sessions`` transcripts of
``--turns`` utterances, invented sentences from bench_session.py, written as text
transcripts) with the bundled fast model:

a. single process — one :class:`~attunement.batch.runner.Coder` (the pipeline built once)
   coding every input in turn, writing the same Parquet parts;
b. local engine — ``run_batch`` with ``--workers`` worker processes;
c. Ray — ``run_batch`` with the Ray engine on a local Ray (``num_cpus=workers``); the
   time to start Ray is reported apart and not counted.

For each: wall time, utterances/s, the ratio to (a), and the peak RSS of a worker
(VmHWM of each worker process, sampled from /proc by the parent; (a): the process
itself). Each mode runs in a fresh process. The per-worker busy rate (utterances over the
summed per-input seconds of the Ray run) drives the scale plan in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def make_corpus(folder: Path, sessions: int, turns: int) -> int:
    from bench_session import make_session

    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for i in range(sessions):
        s = make_session(turns, 30.0, seed=90_000 + i)
        lines = []
        for u in s.utterances:
            t = int(u.start or 0)
            lines.append(f"[{t // 60:02d}:{t % 60:02d}] {u.speaker}: {u.text}")
        (folder / f"s{i:04d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        total += len(s.utterances)
    return total


# --- one mode, in its own process --------------------------------------------------------
def _job(out: Path) -> Any:
    from attunement.batch.runner import BatchJob
    from attunement.coding.card import fast_model_dir

    return BatchJob(out=out, model_dir=fast_model_dir(), read_options={"max_bytes": 50 << 20})


def run_mode(mode: str, corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    from attunement.batch.runner import Coder, collect_inputs, run_batch, run_identity

    items = collect_inputs([str(corpus)])
    job = _job(out)
    doc: dict[str, Any] = {"mode": mode, "inputs": len(items)}
    stamps: list[tuple[float, int]] = []  # (seconds since start, utterances) per result
    if mode == "single":
        run_identity(job)
        for level in ("utterances", "episodes", "sessions"):
            (out / level).mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        coder = Coder(job)
        doc["start_s"] = round(time.perf_counter() - t0, 3)
        t1 = time.perf_counter()
        results = []
        for i in items:
            results.append(coder(i))
            stamps.append((time.perf_counter() - t1, results[-1].utterances))
        doc["wall_s"] = round(time.perf_counter() - t1, 3)
        doc["self_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    else:
        if mode == "local":
            from attunement.batch.local import run_local as engine
        else:
            import logging

            import ray

            from attunement.batch.ray_ import ray_engine

            t0 = time.perf_counter()
            ray.init(
                num_cpus=workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
            doc["ray_init_s"] = round(time.perf_counter() - t0, 3)
            engine = ray_engine(None)
        t1 = time.perf_counter()
        manifest = run_batch(
            job,
            items,
            engine=engine,
            engine_name=mode,
            workers=workers,
            on_result=lambda r: stamps.append((time.perf_counter() - t1, r.utterances)),
        )
        doc["wall_s"] = round(time.perf_counter() - t1, 3)
        results = manifest.results
        if mode == "ray":
            ray.shutdown()
    doc["failed"] = sum(r.status != "done" for r in results)
    doc["utterances"] = sum(r.utterances for r in results)
    doc["busy_s"] = round(sum(r.seconds for r in results), 3)
    # steady state: from the first `workers` results (start-up done) to the last
    k = min(workers if mode != "single" else 1, len(stamps) - 1)
    doc["first_result_s"] = round(stamps[0][0], 3)
    span = stamps[-1][0] - stamps[k - 1][0] if k > 0 else 0.0
    doc["steady_utterances_per_s"] = (
        round(sum(u for _, u in stamps[k:]) / span, 1) if span > 0 else None
    )
    return doc


# --- the parent: runs each mode, samples its workers' memory -----------------------------
def _descendants(root: int) -> list[tuple[int, int]]:
    """(pid, parent pid) of every process below ``root``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for c in children.get(pid, []):
            out.append((c, pid))
            todo.append(c)
    return out


def _hwm_mb(pid: int) -> tuple[float, str] | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024, cmd
    return None


def _is_worker(mode: str, cmd: str, parent_cmd: str) -> bool:
    if mode == "ray":
        return "MapWorker" in cmd or "RayCoder" in cmd
    # local: the pool's workers are forked by the forkserver process
    return "forkserver" in parent_cmd


def measure(mode: str, corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--mode", mode, "--corpus", str(corpus)]
    cmd += ["--out", str(out), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peaks: dict[int, float] = {}
    while proc.poll() is None:
        cmds: dict[int, str] = {}
        for pid, ppid in _descendants(proc.pid):
            got = _hwm_mb(pid)
            if got is None:
                continue
            cmds[pid] = got[1]
            if _is_worker(mode, got[1], cmds.get(ppid, "")):
                peaks[pid] = max(peaks.get(pid, 0.0), got[0])
        time.sleep(0.2)
    stdout, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} run failed ({proc.returncode})")
    doc: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    if mode == "single":
        doc["peak_rss_mb_per_worker"] = doc.pop("self_peak_rss_mb")
    else:
        doc["peak_rss_mb_per_worker"] = round(max(peaks.values())) if peaks else None
        doc["workers_seen"] = len(peaks)
    doc["utterances_per_s"] = round(doc["utterances"] / doc["wall_s"], 1)
    doc["busy_utterances_per_s_per_worker"] = round(doc["utterances"] / doc["busy_s"], 1)
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sessions", type=int, default=96)
    ap.add_argument("--turns", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray mode")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--mode", choices=("single", "local", "ray"), help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.mode:  # a child: one mode, JSON on the last line of stdout
        print(json.dumps(run_mode(args.mode, args.corpus, args.out, args.workers)))
        return 0
    modes = ["single", "local"] + ([] if args.no_ray else ["ray"])
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        corpus = Path(tmp) / "corpus"
        utterances = make_corpus(corpus, args.sessions, args.turns)
        runs = {m: measure(m, corpus, Path(tmp) / m, args.workers) for m in modes}
    base = runs["single"]["utterances_per_s"]
    steady = runs["single"]["steady_utterances_per_s"]
    for doc in runs.values():
        doc["ratio_to_single"] = round(doc["utterances_per_s"] / base, 2)
        doc["steady_ratio_to_single"] = round(doc["steady_utterances_per_s"] / steady, 2)
        print(
            f"{doc['mode']:>6}: {doc['utterances']} utterances in {doc['wall_s']:.1f} s = "
            f"{doc['utterances_per_s']:.0f} utt/s (x{doc['ratio_to_single']:.2f} single; "
            f"steady {doc['steady_utterances_per_s']:.0f}, x{doc['steady_ratio_to_single']:.2f}), "
            f"peak RSS/worker {doc['peak_rss_mb_per_worker']} MB"
        )
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "command": "python benchmarks/bench_batch.py " + " ".join(argv or sys.argv[1:]),
        "sessions": args.sessions,
        "turns": args.turns,
        "utterances": utterances,  # generated turns (the runs count merged utterances)
        "workers": args.workers,
        "model": "fast",
        "load_1min": round(os.getloadavg()[0], 2),
        "runs": runs,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
