"""Run every benchmark, one after the other, each in its own process.

    python benchmarks/run_all.py [--quick] [--only io,session,...]

Each script prints its numbers next to the baseline it measured in the same run; this
runner only sequences them (fresh processes, so one benchmark's memory and caches never
colour the next) and prints a one-line status per script at the end. The accuracy
benchmarks read the public evaluation data in ``../shared/data`` and skip cleanly when it
is absent. ``--quick`` passes each script its own short mode where it has one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script, extra args in --quick mode); ordered cheapest first.
BENCHMARKS: dict[str, tuple[str, list[str]]] = {
    "io": ("bench_io.py", []),
    "report": ("bench_report.py", []),
    "longitudinal": ("bench_longitudinal.py", ["--clients", "2000"]),
    "session": ("bench_session.py", ["--quick"]),
    "coding": ("bench_coding.py", ["--quick"]),
    "mi_quality": ("bench_mi_quality.py", ["--boot", "200"]),
    "targets": ("bench_targets.py", ["--boot", "200"]),
    "finetune": ("bench_finetune.py", ["--epochs", "1"]),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="short mode of each benchmark")
    ap.add_argument("--only", default="", help="comma-separated names: " + ",".join(BENCHMARKS))
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    status: list[tuple[str, int, float]] = []
    for name in names:
        script, quick_args = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / script), *(quick_args if args.quick else [])]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        status.append((name, rc, time.perf_counter() - t0))
    print("\n=== summary")
    for name, rc, secs in status:
        print(f"{name:<14} {'ok' if rc == 0 else f'exit {rc}':<8} {secs:8.1f} s")
    return 0 if all(rc == 0 for _, rc, _ in status) else 1


if __name__ == "__main__":
    raise SystemExit(main())
