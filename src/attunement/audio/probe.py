"""Is this file audio? Decided from its first bytes (and, for containers that also hold
video, by name), without importing any audio library."""

from __future__ import annotations

from pathlib import Path

AUDIO_EXTENSIONS = ("wav", "mp3", "m4a", "aac", "ogg", "opus", "oga", "webm", "mp4", "flac")

_MAGIC = (
    (0, b"RIFF", 8, b"WAVE"),
    (0, b"ID3", None, None),
    (0, b"OggS", None, None),
    (0, b"fLaC", None, None),
    (0, b"\x1aE\xdf\xa3", None, None),  # EBML: WebM / Matroska
    (4, b"ftyp", None, None),  # MP4 / M4A / MOV
)


_MPEG_SECOND = frozenset({0xFB, 0xFA, 0xF3, 0xF2, 0xE3, 0xE2, 0xF1, 0xF9})


def sniff_audio(head: bytes) -> bool:
    """True when the first bytes are those of an audio (or audio-video) container."""
    for at, magic, at2, magic2 in _MAGIC:
        if head[at : at + len(magic)] == magic and (
            at2 is None or magic2 is None or head[at2 : at2 + len(magic2)] == magic2
        ):
            return True
    # MPEG audio frame sync (MP3 without an ID3 tag, ADTS AAC); FF FE is a UTF-16 text
    # file's byte-order mark, so only the common frame headers count
    return len(head) >= 2 and head[0] == 0xFF and head[1] in _MPEG_SECOND


def is_audio(path: str | Path) -> bool:
    """An audio file by its content; a missing or unreadable file is not (the reader
    reports it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return sniff_audio(head)
