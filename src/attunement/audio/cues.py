"""Vocal cues per utterance, as ``utterance.features`` the analyzers and coding can use.

=====================  ==================================================================
``pause_before_s``     silence between the previous utterance's end and this one's start
``overlap_s``          how long this utterance starts inside the previous one (0 if not)
``interrupts``         1.0 when it starts ≥ 0.3 s inside another speaker's utterance
``speech_rate_wps``    words per second of the utterance's span
``loudness_db``        RMS level (dBFS) of the speaker's audio over the utterance
``loudness_sd_db``     variation of the level over 50 ms frames (dB, standard deviation)
``pitch_sd_st``        pitch variation over voiced frames (semitones, SD; YIN 65–400 Hz)
=====================  ==================================================================

Times come from word timestamps (±0.1–0.2 s with Whisper tiny); pitch and loudness from the
speaker's own track when there is one, else the mixed track (where overlapping speech
mixes both voices).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from attunement.audio.decode import RATE
from attunement.model import Session

INTERRUPT_S = 0.3
FRAME_S = 0.05
MIN_PITCH_S = 0.4


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(max(float(np.sqrt(np.mean(x * x))), 1e-6)))


def _pitch_sd(segment: np.ndarray) -> float | None:
    if len(segment) < MIN_PITCH_S * RATE:
        return None
    import librosa

    f0 = librosa.yin(segment, fmin=65, fmax=400, sr=RATE, frame_length=1024, hop_length=256)
    frames = librosa.util.frame(segment, frame_length=1024, hop_length=256)
    n = min(len(f0), frames.shape[1])
    energy = np.sqrt(np.mean(frames[:, :n] ** 2, axis=0))
    voiced = f0[:n][energy > 0.25 * float(np.max(energy) or 1.0)]
    if len(voiced) < 5:
        return None
    semitones = 12 * np.log2(voiced / np.median(voiced))
    return round(float(np.std(semitones)), 3)


def attach(session: Session, tracks: Mapping[str, np.ndarray], mixed: np.ndarray | None) -> None:
    """Compute the cues for every timed utterance; ``tracks`` maps a speaker to their own
    channel, ``mixed`` is the channel everyone is on (when there is one)."""
    prev = None
    for u in session.utterances:
        if u.start is None or u.end is None:
            continue
        audio = tracks.get(u.speaker, mixed)
        f = u.features
        if prev is not None and prev.end is not None:
            gap = u.start - prev.end
            f["pause_before_s"] = round(max(0.0, gap), 3)
            f["overlap_s"] = round(max(0.0, -gap), 3)
            f["interrupts"] = 1.0 if -gap >= INTERRUPT_S and prev.speaker != u.speaker else 0.0
        span = max(u.end - u.start, 0.05)
        f["speech_rate_wps"] = round(len(u.text.split()) / span, 3)
        if audio is not None:
            seg = audio[int(u.start * RATE) : int(u.end * RATE)]
            if len(seg) >= FRAME_S * RATE:
                f["loudness_db"] = round(_db(seg), 2)
                step = int(FRAME_S * RATE)
                frames = [_db(seg[i : i + step]) for i in range(0, len(seg) - step + 1, step)]
                f["loudness_sd_db"] = round(float(np.std(frames)), 3)
                f["pitch_sd_st"] = _pitch_sd(seg)
        prev = u
