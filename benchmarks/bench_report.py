"""Report writers on a 3-hour session: render time and size, next to a baseline.

The session is the bundled ``cheerful-goodbye`` example repeated to 2,400+ turns and
spread over 3 hours and analyzed with every available analyzer, so the report has realistic
codes, features and episodes. Baseline, measured in the same run: pydantic's own
``model_dump_json`` of the same session (the cheapest possible "report").

    python benchmarks/bench_report.py
"""

from __future__ import annotations

import os
import time
from importlib import resources
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from attunement.analysis.pipeline import analyze, available, build_pipeline
from attunement.io import read_session
from attunement.model import Session, Utterance
from attunement.report import get_writer

TARGET_SECONDS = 3 * 3600
TARGET_TURNS = 2400


def three_hour_session() -> Session:
    path = Path(str(resources.files("attunement") / "examples/sessions/cheerful-goodbye.txt"))
    base = read_session(path)
    span = (base.duration or 300.0) + 5.0
    utts: list[Utterance] = []
    offset = 0.0
    while len(utts) < TARGET_TURNS:
        for u in base.utterances:
            i = len(utts)
            utts.append(
                u.model_copy(
                    update={
                        "id": f"u{i + 1:04d}",
                        "index": i,
                        "start": (u.start or 0.0) + offset,
                        "end": None if u.end is None else u.end + offset,
                    }
                )
            )
        offset += span
    scale = TARGET_SECONDS / offset  # squeeze the repeats into three hours
    for u in utts:
        u.start = None if u.start is None else u.start * scale
        u.end = None if u.end is None else u.end * scale
    return base.model_copy(update={"utterances": utts})


def best_of(n: int, fn: object) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    session = three_hour_session()
    t0 = time.perf_counter()
    session = analyze(session, pipeline=build_pipeline(available()))
    analysis = time.perf_counter() - t0
    print(
        f"session: {len(session.utterances)} turns, {session.duration / 3600:.1f} h, "
        f"{len(session.episodes)} episodes; analysis {analysis:.2f} s (not the writers)"
    )
    base = best_of(3, lambda: session.model_dump_json())
    print(f"{'writer':<10} {'seconds':>8} {'x baseline':>11} {'size KB':>9}")
    print(f"{'baseline':<10} {base:8.3f} {1.0:11.1f} {len(session.model_dump_json()) / 1024:9.0f}")
    for name in ("json", "html", "markdown", "terminal"):
        writer = get_writer(name)
        writer.render(session)  # warm: template compile, imports
        secs = best_of(3, lambda w=writer: w.render(session))
        size = len(writer.render(session).encode()) / 1024
        print(f"{name:<10} {secs:8.3f} {secs / base:11.1f} {size:9.0f}")


if __name__ == "__main__":
    main()
