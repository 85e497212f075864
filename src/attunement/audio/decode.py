"""Decoding: any container PyAV (FFmpeg) reads → 16 kHz float32, one row per channel.

Stereo is kept as two rows (a stereo file may carry one speaker per channel); more
channels are mixed down to mono. Files longer than ``max_seconds`` are refused before
decoding; a file that ends well before the length its header states is refused as
truncated. Nothing is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from attunement.errors import TranscriptError

RATE = 16_000
#: four hours: longer recordings are refused (split them); ~920 MB as stereo float32
MAX_SECONDS = 4 * 3600.0
#: decoded length below this share of the stated length: truncated
TRUNCATED_SHARE = 0.9
EXTRA_HINT = "audio needs the 'audio' extra: pip install 'attunement[audio]'"


@dataclass(frozen=True)
class Decoded:
    #: (channels, samples) float32 in [-1, 1] at :data:`RATE`
    samples: np.ndarray
    #: channels in the file before any down-mix
    file_channels: int

    @property
    def seconds(self) -> float:
        return float(self.samples.shape[1]) / RATE


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _wav_seconds(path: str | Path | bytes) -> float | None:
    """The length a PCM WAV file's header states (None for anything else)."""
    import io
    import wave

    try:
        with wave.open(io.BytesIO(path) if isinstance(path, bytes) else str(path), "rb") as w:
            rate, frames = w.getframerate(), w.getnframes()
    except (wave.Error, EOFError, OSError, ValueError):
        return None
    return frames / rate if rate else None


def decode(
    path: str | Path | bytes, max_seconds: float = MAX_SECONDS, name: str = "recording"
) -> Decoded:
    """Decode one audio (or video) file's first audio track — a path, or the file's
    bytes already in memory (an upload: decoded from memory, never written out)."""
    try:
        import av
    except ImportError:
        raise TranscriptError(EXTRA_HINT) from None
    import io

    name = name if isinstance(path, bytes) else Path(path).name
    try:
        container = av.open(io.BytesIO(path) if isinstance(path, bytes) else str(path), mode="r")
    except FileNotFoundError:
        raise TranscriptError("file not found", where=name) from None
    except (av.error.FFmpegError, OSError) as exc:
        reason = "not an audio file, or a codec this build cannot read"
        if isinstance(exc, PermissionError):
            reason = "permission denied"
        raise TranscriptError(reason, where=name) from None
    with container:
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise TranscriptError("no audio track in this file", where=name)
        stated = None
        if stream.duration is not None and stream.time_base is not None:
            stated = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            stated = container.duration / 1_000_000
        header = _wav_seconds(path)
        if header is not None:
            stated = header  # FFmpeg takes a WAV's length from its size, the header knows
        if stated is not None and stated > max_seconds:
            raise TranscriptError(
                f"recording is {_clock(stated)} long, over the {_clock(max_seconds)} limit "
                "(split it, or raise --max-hours)",
                where=name,
            )
        channels = int(getattr(stream.codec_context, "channels", 0) or 1)
        layout = "stereo" if channels == 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE)
        chunks: list[np.ndarray] = []  # ~0.1 s each; joined once at the end
        total = 0
        limit = int(max_seconds * RATE)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):  # type: ignore[arg-type]
                    chunk = out.to_ndarray().astype(np.float32, copy=False)
                    chunks.append(chunk)
                    total += chunk.shape[1]
                if total > limit:
                    raise TranscriptError(
                        f"recording is over the {_clock(max_seconds)} limit", where=name
                    )
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().astype(np.float32, copy=False))
        except av.error.FFmpegError:
            raise TranscriptError(
                f"damaged or truncated audio after {_clock(total / RATE)}", where=name
            ) from None
    if not chunks:
        raise TranscriptError("the audio track is empty", where=name)
    samples = np.concatenate(chunks, axis=1)
    decoded = Decoded(samples=samples, file_channels=channels)
    if stated and stated > 5 and decoded.seconds < TRUNCATED_SHARE * stated:
        raise TranscriptError(
            f"truncated: {_clock(decoded.seconds)} of audio in a file that states {_clock(stated)}",
            where=name,
        )
    return decoded
