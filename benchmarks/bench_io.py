"""How fast do transcripts read? Synthetic Zoom-style VTT files of 600 and 2000 cues.

Run: ``python benchmarks/bench_io.py``. Prints the reader's time next to a baseline
measured in the same run: decoding the bytes and splitting lines, the least any reader
must do. The text is generated (no real session content).
"""

from __future__ import annotations

import time

from attunement.io import read_session_bytes

_LINES = [
    "How have things been since we last met?",
    "Honestly, pretty rough, I didn't sleep much.",
    "It sounds like the week took a lot out of you.",
    "Yeah. I guess so.",
]


def make_vtt(cues: int) -> bytes:
    parts = ["WEBVTT", ""]
    for i in range(cues):
        start, end = i * 5.0, i * 5.0 + 4.5
        speaker = "Dr. Lee" if (i // 2) % 2 == 0 else "Jordan"
        parts += [
            str(i + 1),
            f"{_clock(start)} --> {_clock(end)}",
            f"{speaker}: {_LINES[i % 4]}",
            "",
        ]
    return "\n".join(parts).encode()


def _clock(seconds: float) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def _best(fn: object, repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    print(
        f"{'cues':>6} {'utterances':>10} {'read_session_bytes':>20} {'baseline decode+split':>22}"
    )
    for cues in (600, 1200, 2000):
        data = make_vtt(cues)
        session = read_session_bytes(data, "bench.vtt")
        reader = _best(lambda d=data: read_session_bytes(d, "bench.vtt"))
        baseline = _best(lambda d=data: d.decode("utf-8").split("\n"))
        print(
            f"{cues:>6} {len(session.utterances):>10} {reader * 1000:>17.2f} ms "
            f"{baseline * 1000:>19.3f} ms"
        )


if __name__ == "__main__":
    main()
