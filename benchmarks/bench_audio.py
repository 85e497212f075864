"""Audio in: real-time factor per stage, accuracy on the project's test audio, memory.

    python benchmarks/bench_audio.py --json benchmarks/results/audio.json [--long-minutes 50]
    python benchmarks/render_docs.py

Test audio: benchmarks/synth_audio.py speaks a written two-person session (16 turns,
~72 s) with two espeak-ng voices. Every layout (one file per participant, stereo with a
voice per channel, one mixed track) is transcribed in a fresh process; we report word
error rate, diarization error rate (frame level, no collar), turn attribution and the
pause cue against the script, and the seconds spent in decoding, VAD, ASR and
diarization beside the audio's length (real-time factor = seconds of work per second of
audio), plus the process's peak RSS. The long run repeats the script to the given length
(one mixed track) to measure a full session's time and memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAYOUTS = {
    "tracks": ["therapist.wav", "client.wav"],
    "stereo": ["stereo.wav"],
    "mixed": ["mixed.wav"],
}
SCRIPT_S = 72.0  # about one pass of the script


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one(folder: Path, layout: str) -> dict[str, Any]:
    """Transcribe one layout in this process and score it (run in a child process)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import audio_scoring as sc

    from attunement.audio.transcribe import Timings, transcribe

    truth = json.loads((folder / "truth.json").read_text())
    tm = Timings()
    import time

    t0 = time.perf_counter()
    session = transcribe([folder / f for f in LAYOUTS[layout]], timings=tm)
    wall = time.perf_counter() - t0
    audio = tm.audio_seconds
    return {
        "audio_s": audio,
        "wall_s": wall,
        "stages_s": {k: getattr(tm, k) for k in ("decode", "vad", "asr", "diarize", "cues")},
        "rtf": {k: getattr(tm, k) / audio for k in ("decode", "vad", "asr", "diarize", "cues")}
        | {"total": wall / audio},
        "wer": sc.wer(truth, session),
        "der": sc.der(truth, session),
        "turns": sc.turns(truth, session),
        "pauses": sc.pause_cue(truth, session)["pauses"],
        "peak_rss_mb": _peak_rss_mb(),
    }


def _child(folder: Path, layout: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), layout],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--long-minutes", type=float, default=50.0, help="length of the long run (0: skip it)"
    )
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(one(Path(args.child[0]), args.child[1])))
        return 0
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import synth_audio

    doc: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": "python benchmarks/bench_audio.py --json benchmarks/results/audio.json",
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        short = Path(tmp) / "short"
        synth_audio.render(short)
        for layout in LAYOUTS:
            doc["runs"][layout] = _child(short, layout)
            r = doc["runs"][layout]
            print(
                f"{layout:7s} {r['audio_s']:.0f} s audio  WER {r['wer']:.3f}  "
                f"DER {r['der']['der']:.3f}  turns right {r['turns']['attribution']:.2f}  "
                f"RTF {r['rtf']['total']:.3f}  peak {r['peak_rss_mb']:.0f} MB"
            )
        if args.long_minutes > 0:
            repeat = max(1, round(args.long_minutes * 60 / SCRIPT_S))
            long = Path(tmp) / "long"
            synth_audio.render(long, repeat=repeat)
            for layout in ("mixed", "tracks"):
                r = _child(long, layout)
                doc["runs"][f"long_{layout}"] = r
                print(
                    f"long {layout} {r['audio_s'] / 60:.1f} min  WER {r['wer']:.3f}  "
                    f"DER {r['der']['der']:.3f}  RTF {r['rtf']['total']:.3f}  "
                    f"peak {r['peak_rss_mb']:.0f} MB"
                )
    doc["load_1min"] = round(os.getloadavg()[0], 2)
    if args.json:
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
