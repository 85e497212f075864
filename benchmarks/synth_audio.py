"""Test audio made by the project: a written two-person session spoken by two espeak-ng
voices (Debian package ``espeak-ng``), with known turn times, pauses and words.

    python benchmarks/synth_audio.py OUT_DIR [--repeat N]

writes ``mixed.wav`` (one track, both voices), ``stereo.wav`` (therapist left, client
right), ``therapist.wav`` and ``client.wav`` (one file per participant) and
``truth.json`` (every turn's speaker, text, start and end). ``--repeat`` speaks the script
N times in a row for long-file benchmarks. The script is written for this purpose; it is
not taken from the examples, tests or evaluation data.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

RATE = 22_050  # espeak-ng's output rate
#: voice, pitch (0-99), words per minute; the pitches are far apart because the speaker
#: encoder hardly tells two espeak voices of one pitch apart (measured: cosine 0.76
#: between voices vs 0.79 within)
VOICES = {"therapist": ("en-us+m3", 40, 165), "client": ("en-gb-x-rp+f2", 90, 145)}

#: (speaker, pause before the turn in seconds, text)
SCRIPT: list[tuple[str, float, str]] = [
    ("therapist", 0.4, "Good morning. How has the week been since we last spoke?"),
    ("client", 0.8, "Busy. Work has been a lot, and I have not been sleeping very well."),
    ("therapist", 0.7, "Not sleeping well. What keeps you awake at night?"),
    ("client", 1.0, "Mostly going over things I said at work. Small things, really."),
    ("therapist", 0.6, "It sounds like those small things stay with you for a long time."),
    ("client", 0.9, "They do. I replay them again and again until it is nearly light."),
    ("therapist", 0.8, "Last time you talked about your brother. Did you call him?"),
    ("client", 3.2, "No."),
    ("therapist", 1.2, "I noticed a long pause there. What happened just now?"),
    ("client", 2.6, "Nothing. It is fine."),
    ("therapist", 1.0, "I may have pushed too fast. I am sorry about that."),
    ("client", 1.4, "It is hard to talk about him. We have not spoken for two years."),
    ("therapist", 0.8, "Two years is a long time. Would you be willing to tell me more?"),
    ("client", 1.1, "Maybe next week. I think I need to go slowly with this."),
    ("therapist", 0.7, "Going slowly sounds right. We can take it at your pace."),
    ("client", 0.9, "Thank you. That helps more than you know."),
]


@dataclass
class Turn:
    speaker: str
    text: str
    start: float
    end: float
    pause_before: float


def _speak(text: str, voice: str, pitch: int, speed: int, path: Path) -> np.ndarray:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng)")
    subprocess.run(
        [espeak, "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", str(path), text],
        check=True,
    )
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32)
    data /= 32768.0
    # espeak pads each clip with silence; trim it so the pause is what the script says
    voiced = np.flatnonzero(np.abs(data) > 0.01)
    return data[voiced[0] : voiced[-1] + 1] if len(voiced) else data


def _write(path: Path, channels: np.ndarray) -> None:
    pcm = (np.clip(channels, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels.shape[0])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.T.copy().tobytes())


def render(out: Path, repeat: int = 1) -> list[Turn]:
    """Write the four WAV files and truth.json into ``out``; return the turns."""
    out.mkdir(parents=True, exist_ok=True)
    clips: list[tuple[str, float, str, np.ndarray]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache: dict[tuple[str, str], np.ndarray] = {}
        for speaker, pause, text in SCRIPT:
            if (speaker, text) not in cache:
                voice, pitch, speed = VOICES[speaker]
                cache[(speaker, text)] = _speak(text, voice, pitch, speed, Path(tmp) / "t.wav")
            clips.append((speaker, pause, text, cache[(speaker, text)]))
    clips = clips * repeat
    turns: list[Turn] = []
    t = 0.0
    for speaker, pause, text, audio in clips:
        t += pause
        turns.append(Turn(speaker, text, round(t, 3), round(t + len(audio) / RATE, 3), pause))
        t += len(audio) / RATE
    n = int((t + 0.5) * RATE)
    tracks = {s: np.zeros(n, np.float32) for s in VOICES}
    for turn, (_, _, _, audio) in zip(turns, clips, strict=True):
        i = int(turn.start * RATE)
        tracks[turn.speaker][i : i + len(audio)] += audio * 0.6
    _write(out / "therapist.wav", tracks["therapist"][None])
    _write(out / "client.wav", tracks["client"][None])
    _write(out / "mixed.wav", (tracks["therapist"] + tracks["client"])[None])
    _write(out / "stereo.wav", np.stack([tracks["therapist"], tracks["client"]]))
    (out / "truth.json").write_text(
        json.dumps([asdict(x) for x in turns], indent=1) + "\n", encoding="utf-8"
    )
    return turns


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    turns = render(args.out, args.repeat)
    print(f"{len(turns)} turns, {turns[-1].end:.1f} s of audio in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
