"""Recordings → a Session: decode, find speech and words, attribute speakers, build
turns, attach vocal cues.

Who spoke: (a) per-speaker tracks need no diarization — several files (one per
participant, as Zoom and Teams can record; the speaker is the file's name) or a stereo
file whose channels carry different voices; (b) one mixed track is diarized
(:mod:`attunement.audio.diarize`). Roles then come from ``therapist``/``client`` or are
inferred from what each speaker says, as for transcripts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attunement.audio import cues
from attunement.audio.asr import Transcriber, Word, speech_regions
from attunement.audio.decode import MAX_SECONDS, Decoded, decode
from attunement.audio.diarize import diarize, speaker_at
from attunement.errors import TranscriptError
from attunement.io.base import RawTurn, Source
from attunement.io.normalize import build_session
from attunement.model import Session

#: energy envelopes of two channels less correlated than this: one voice per channel
SPLIT_CORRELATION = 0.5

Progress = Callable[[str, float, float], None]


@dataclass
class Timings:
    """Seconds spent per stage (for benchmarks and --verbose)."""

    decode: float = 0.0
    vad: float = 0.0
    asr: float = 0.0
    diarize: float = 0.0
    cues: float = 0.0
    audio_seconds: float = 0.0


def name_of(item: Path | bytes, given: str = "recording") -> str:
    return item.name if isinstance(item, Path) else given


def _label(path: Path) -> str:
    stem = re.sub(r"[\s_]+", " ", path.stem).strip()
    return stem[:40] or "Speaker"


def _envelope(x: np.ndarray, step: int = 1600) -> np.ndarray:
    n = len(x) // step
    env: np.ndarray = np.sqrt(np.mean(x[: n * step].reshape(n, step) ** 2, axis=1))
    return env


def _voice(samples: np.ndarray) -> np.ndarray:
    """One channel to listen to: the only one, the live one when the other is silent,
    else both mixed."""
    levels = [float(np.sqrt(np.mean(c * c))) if c.size else 0.0 for c in samples]
    if samples.shape[0] == 1 or min(levels) < 1e-4 <= max(levels):
        one: np.ndarray = samples[int(np.argmax(levels))]
        return one
    mixed: np.ndarray = samples.mean(axis=0)
    return mixed


def separate_channels(decoded: Decoded) -> bool:
    """Does each channel of a stereo file carry its own voice?"""
    if decoded.samples.shape[0] < 2:
        return False
    a, b = (_envelope(decoded.samples[i]) for i in (0, 1))
    if min(float(a.max(initial=0)), float(b.max(initial=0))) < 1e-3:
        return False  # one channel is silent: a mono recording in a stereo file
    if len(a) < 4 or float(np.std(a)) == 0 or float(np.std(b)) == 0:
        return False
    return float(np.corrcoef(a, b)[0, 1]) < SPLIT_CORRELATION


def _turns(words: list[tuple[str, Word]]) -> list[RawTurn]:
    turns: list[RawTurn] = []
    for speaker, w in sorted(words, key=lambda x: (x[1].start, x[1].end)):
        if turns and turns[-1].speaker == speaker:
            turns[-1].text += " " + w.text
            turns[-1].end = max(turns[-1].end or w.end, w.end)
        else:
            turns.append(RawTurn(speaker=speaker, text=w.text, start=w.start, end=w.end))
    return turns


def transcribe(
    paths: Sequence[Path | bytes],
    *,
    speakers: int | None = None,
    channels: str = "auto",
    transcriber: Transcriber | None = None,
    therapist: Sequence[str] | None = None,
    client: Sequence[str] | None = None,
    max_seconds: float = MAX_SECONDS,
    progress: Progress | None = None,
    timings: Timings | None = None,
    name: str | None = None,
    tracks_given: bool = False,
) -> Session:
    """One session from one recording, or from one track per participant (several
    files, or ``tracks_given``: each file is one speaker)."""
    import time

    tm = timings or Timings()
    asr = transcriber or Transcriber()
    first = name or name_of(paths[0])
    name = first if len(paths) == 1 else f"{first} + {len(paths) - 1} track(s)"
    t0 = time.perf_counter()
    decoded = [decode(p, max_seconds, name=name_of(p, first)) for p in paths]
    tm.decode += time.perf_counter() - t0
    tracks: dict[str, np.ndarray] = {}
    mixed: np.ndarray | None = None
    if len(paths) > 1 or tracks_given:
        for i, (p, d) in enumerate(zip(paths, decoded, strict=True)):
            label = base = _label(p) if isinstance(p, Path) else f"Track {i + 1}"
            n = 1
            while label in tracks:  # two files of one name in different folders
                n += 1
                label = f"{base} ({n})"
            tracks[label] = _voice(d.samples)
    elif channels == "split":
        if decoded[0].samples.shape[0] != 2:
            raise TranscriptError("--channels split needs a stereo file", where=name)
        tracks = {f"Channel {i + 1}": decoded[0].samples[i] for i in range(2)}
    elif channels == "auto" and separate_channels(decoded[0]):
        tracks = {f"Channel {i + 1}": decoded[0].samples[i] for i in range(2)}
    else:
        mixed = _voice(decoded[0].samples)
    tm.audio_seconds = max(d.seconds for d in decoded)
    words: list[tuple[str, Word]] = []
    sources: dict[str, np.ndarray | None] = dict(tracks) or {"mixed": mixed}
    for label, samples in sources.items():
        assert samples is not None
        t0 = time.perf_counter()
        regions = speech_regions(samples)
        tm.vad += time.perf_counter() - t0
        if not regions:
            continue
        t0 = time.perf_counter()
        report = (lambda s, lb=label: progress(lb, s, tm.audio_seconds)) if progress else None
        found = asr.words(samples, report, regions)
        tm.asr += time.perf_counter() - t0
        if mixed is not None:
            t0 = time.perf_counter()
            windows, _ = diarize(samples, regions, speakers)
            tm.diarize += time.perf_counter() - t0
            for w in found:
                who = speaker_at(windows, (w.start + w.end) / 2)
                words.append((f"Speaker {(who or 0) + 1}", w))
        else:
            words += [(label, w) for w in found]
    if not words:
        raise TranscriptError("no speech found in the recording", where=name)
    source = Source(b"", name)
    session = build_session(_turns(words), source, "audio", [], therapist, client)
    t0 = time.perf_counter()
    cues.attach(session, tracks, mixed)
    tm.cues += time.perf_counter() - t0
    session.provenance.append(f"asr:{asr.model_name}")
    if mixed is not None:
        session.provenance.append("diarization:resemblyzer+agglomerative")
    return session
