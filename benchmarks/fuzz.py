"""Fuzz benchmark: hostile inputs at scale through every reader, command and writer.

    python benchmarks/fuzz.py --inputs 100000 --json benchmarks/results/fuzz.json

Inputs come from the generators the fuzz tests use (``tests/fuzz_strategies.py``,
``tests/fuzz_folders.py``, ``tests/fuzz_targets.py``): input *i* is the case
``make_case(MIX[i % len(MIX)], i)``, so any input can be rebuilt from its number. Each
input runs in a worker process (one per core) with a per-input time limit (an alarm in
the worker, and a kill from the supervisor if the alarm cannot fire) and an address-space
limit (``RLIMIT_AS``). Counted: inputs tried, crashes (a non-project exception, an exit
code other than 0/2, a dead worker), canary leaks into error messages, files left behind
after an error, raw control characters in terminal/Markdown output, hangs, peak RSS.

Failures are summarised by kind, status and the file:line they came from — never by
input content. A reproducer of the first few of each is saved under
``benchmarks/fuzz-crashes/KIND-SEED/`` (gitignored): the generated files and a
``case.json`` with the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import stat
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# one worker per core: BLAS thread pools in each would only fight over the same cores
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

#: kinds by weight: cheap library reads most, a training run now and then
MIX = ["read"] * 100 + ["analyze"] * 36 + ["client"] * 20 + ["examples"] * 30
MIX += ["evaluate"] * 24 + ["train"]
CRASH_DIR = HERE / "fuzz-crashes"
SAVED_PER_FAILURE = 3
GRACE_S = 20.0


def _rmtree(path: Path) -> None:
    def fix(func: Any, p: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(p, stat.S_IRWXU)
            func(p)

    shutil.rmtree(path, onexc=fix) if sys.version_info >= (3, 12) else shutil.rmtree(
        path, onerror=fix
    )


def _limit(kind: str, seconds: float, train_seconds: float) -> float:
    return train_seconds if kind == "train" else seconds


def _worker(conn: Connection, seconds: float, train_seconds: float, memory_mb: int) -> None:
    """Run the inputs the supervisor sends, one at a time; reply with the outcome."""
    from attunement.cli import main as cli
    from fuzz_targets import make_case, run_case, where_from

    # building the typer app costs ~20 ms a call; one app serves every input of a worker
    cli.build_app = functools.cache(cli.build_app)  # type: ignore[method-assign]
    if memory_mb:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    shm = Path("/dev/shm")  # in memory: the writers fsync every report
    base = Path(tempfile.mkdtemp(prefix="attune-fuzz-", dir=shm if shm.is_dir() else None))
    make_case("read", 0)  # warm the imports and the fast model before the clock starts
    for kind in ("analyze", "client", "train"):  # first runs load models
        with contextlib.suppress(Exception):
            run_case(make_case(kind, 0), base / kind, seconds * 6)
        _rmtree(base / kind)
    conn.send("ready")
    while True:
        try:
            index = conn.recv()
        except EOFError:
            break
        if index is None:
            break
        kind = MIX[index % len(MIX)]
        root = base / str(index)
        root.mkdir()
        t0 = time.perf_counter()
        try:
            outcome = run_case(make_case(kind, index), root, _limit(kind, seconds, train_seconds))
            status, detail = outcome.status, outcome.detail
        except MemoryError:
            status, detail = "crash", f"MemoryError outside the target ({kind})"
        except Exception as exc:  # a bug in the generators, not in the target
            status, detail = "harness", where_from(exc)
        elapsed = time.perf_counter() - t0
        _rmtree(root)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send((index, kind, status, detail, elapsed, rss))
    _rmtree(base)


class _Slot:
    def __init__(self, ctx: Any, args: argparse.Namespace) -> None:
        self.conn, child = ctx.Pipe()
        limits = (child, args.seconds, args.train_seconds, args.memory_mb)
        self.proc = ctx.Process(target=_worker, args=limits, daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(600) or self.conn.recv() != "ready":  # warm-up loads models
            raise RuntimeError("fuzz worker did not start")
        self.index: int | None = None
        self.since = 0.0

    def send(self, index: int) -> None:
        self.index, self.since = index, time.monotonic()
        self.conn.send(index)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def _save(kind: str, index: int, status: str, detail: str, crash_dir: Path) -> None:
    from fuzz_targets import make_case, write_tree

    try:
        case = make_case(kind, index)
    except Exception:
        return
    folder = crash_dir / f"{kind}-{index}"
    with contextlib.suppress(FileExistsError):
        _rmtree(folder)
    folder.mkdir(parents=True)
    write_tree(case.tree, folder)
    info = {"kind": kind, "seed": index, "status": status, "detail": detail}
    info |= {"argv": case.argv, "params": case.params}
    (folder / "case.json").write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")


def run(args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    slots = [_Slot(ctx, args) for _ in range(args.workers)]
    todo = iter(range(args.start, args.start + args.inputs))
    per_kind: dict[str, Counter[str]] = {}
    failures: dict[tuple[str, str, str], dict[str, Any]] = {}
    peak_rss, slowest, done = 0.0, 0.0, 0
    t0 = time.monotonic()
    last_report = t0

    kind_seconds: Counter[str] = Counter()

    def record(index: int, kind: str, status: str, detail: str, elapsed: float = 0.0) -> None:
        nonlocal done
        done += 1
        kind_seconds[kind] += elapsed
        per_kind.setdefault(kind, Counter())[status] += 1
        if status in ("ok", "refused"):
            return
        key = (status, kind, detail)
        entry = failures.setdefault(key, {"count": 0, "seeds": []})
        entry["count"] += 1
        if len(entry["seeds"]) < SAVED_PER_FAILURE:
            entry["seeds"].append(index)
            with contextlib.suppress(Exception):
                _save(kind, index, status, detail, Path(args.crash_dir))

    def summary(complete: bool) -> dict[str, Any]:
        seconds = time.monotonic() - t0
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        totals: Counter[str] = Counter()
        for c in per_kind.values():
            totals.update(c)
        return {
            "complete": complete,
            "date": dt.date.today().isoformat(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "command": "python benchmarks/fuzz.py " + " ".join(args.argv),
            "inputs": done,
            "workers": args.workers,
            "seconds": round(seconds, 1),
            "inputs_per_second": round(done / seconds, 1) if seconds else None,
            "time_limit_s": args.seconds,
            "train_time_limit_s": args.train_seconds,
            "memory_limit_mb": args.memory_mb,
            "peak_rss_mb": round(max(peak_rss, children), 1),
            "slowest_input_s": round(slowest, 2),
            "mean_ms_per_kind": {
                k: round(1000 * kind_seconds[k] / sum(c.values()), 1)
                for k, c in sorted(per_kind.items())
            },
            "totals": {s: totals.get(s, 0) for s in ("ok", "refused", *_FAIL)},
            "per_kind": {
                k: {s: c.get(s, 0) for s in ("ok", "refused", *_FAIL)}
                for k, c in sorted(per_kind.items())
            },
            "failures": [
                {"status": s, "kind": k, "detail": d, "count": e["count"], "seeds": e["seeds"]}
                for (s, k, d), e in sorted(failures.items(), key=lambda kv: -kv[1]["count"])
            ],
        }

    for slot in slots:
        nxt = next(todo, None)
        if nxt is not None:
            slot.send(nxt)
    while any(s.index is not None for s in slots):
        busy = [s for s in slots if s.index is not None]
        ready = wait([s.conn for s in busy], timeout=1.0)
        now = time.monotonic()
        for i, slot in enumerate(slots):
            if slot.index is None:
                continue
            index, kind = slot.index, MIX[slot.index % len(MIX)]
            if slot.conn in ready:
                try:
                    _, kind, status, detail, elapsed, rss = slot.conn.recv()
                except (EOFError, OSError):
                    slot.proc.join(5)
                    code = slot.proc.exitcode
                    record(index, kind, "crash", f"worker died (exit {code}) ({kind})")
                    slots[i] = slot = _Slot(ctx, args)
                else:
                    peak_rss, slowest = max(peak_rss, rss), max(slowest, elapsed)
                    record(index, kind, status, detail, elapsed)
            elif now - slot.since > _limit(kind, args.seconds, args.train_seconds) + GRACE_S:
                slot.kill()
                record(index, kind, "hang", f"killed by the supervisor ({kind})")
                slots[i] = slot = _Slot(ctx, args)
            else:
                continue
            slot.index = None
            nxt = next(todo, None)
            if nxt is not None:
                slot.send(nxt)
        if now - last_report > args.progress:
            last_report = now
            bad = sum(e["count"] for e in failures.values())
            rate = done / (now - t0)
            print(f"{done}/{args.inputs} inputs, {bad} failing, {rate:.0f}/s", flush=True)
            if args.json:
                partial = summary(complete=False)
                Path(args.json).write_text(json.dumps(partial, indent=2) + "\n", encoding="utf-8")
    for slot in slots:
        with contextlib.suppress(OSError):
            slot.conn.send(None)
        slot.proc.join(10)
    return summary(complete=True)


_FAIL = ("crash", "leak", "leftover", "control", "hang", "harness")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--inputs", type=int, default=2_000, help="inputs to try")
    ap.add_argument("--start", type=int, default=0, help="first input number")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seconds", type=float, default=10.0, help="time limit per input")
    ap.add_argument(
        "--train-seconds", type=float, default=60.0, help="time limit per `attune train` input"
    )
    ap.add_argument("--memory-mb", type=int, default=4096, help="RLIMIT_AS per worker (0: none)")
    ap.add_argument("--crash-dir", default=str(CRASH_DIR), help="where reproducers go")
    ap.add_argument("--progress", type=float, default=60.0, help="seconds between progress lines")
    ap.add_argument("--json", help="write the summary here")
    args = ap.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    result = run(args)
    t = result["totals"]
    print(
        f"{result['inputs']} inputs in {result['seconds']} s ({result['inputs_per_second']}/s, "
        f"{args.workers} workers): {t['crash']} crashes, {t['hang']} hangs, {t['leak']} leaks, "
        f"{t['leftover']} leftovers, {t['control']} control-character outputs; "
        f"peak RSS {result['peak_rss_mb']} MB, slowest input {result['slowest_input_s']} s"
    )
    for f in result["failures"]:
        print(
            f"  {f['count']:6d}  {f['status']:8s} {f['kind']:9s} {f['detail']}  seeds {f['seeds']}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
