"""Bytes → text for transcripts exported by whatever tool the clinic uses.

Order: UTF-8 with BOM, UTF-16 with BOM, UTF-16 without BOM (recognised by its zero
bytes), UTF-8, then cp1252 (old Word/Windows exports). Anything else — NUL bytes that
are not UTF-16, control characters, bytes no candidate decodes — is refused rather than
turned into mojibake that would then be "analyzed".
"""

from __future__ import annotations

import codecs
import re

from attunement.errors import TranscriptError

_SAMPLE = 4096
#: C0 controls other than tab, newline, carriage return, form feed; plus DEL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_bytes(data: bytes, name: str) -> str:
    """Decode ``data`` (named ``name`` in errors) and normalize newlines to '\\n'."""
    if not data.strip():
        raise TranscriptError("file is empty", where=name)
    text = _decode(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = len(_CONTROL.findall(text[:65536]))
    if "\x00" in text or controls > max(2, len(text[:65536]) // 200):
        raise TranscriptError("file looks binary, not a text transcript", where=name)
    if not text.strip():
        raise TranscriptError("file is empty", where=name)
    return text


def _decode(data: bytes, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[3:], "utf-8", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name)
    guess = _utf16_without_bom(data)
    if guess is not None:
        return _strict(data, guess, name)
    if b"\x00" in data:
        raise TranscriptError("file looks binary, not a text transcript", where=name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise TranscriptError(
            "unknown text encoding (tried UTF-8, UTF-16 and Windows-1252); "
            "save the transcript as UTF-8",
            where=name,
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when zero bytes sit on one parity, as in ASCII-heavy
    UTF-16; None otherwise."""
    sample = data[:_SAMPLE]
    if len(sample) < 4 or len(data) % 2:
        return None
    half = len(sample) // 2
    even_zero = sample[0::2].count(0)
    odd_zero = sample[1::2].count(0)
    if odd_zero > 0.3 * half and even_zero < 0.05 * half:
        return "utf-16-le"
    if even_zero > 0.3 * half and odd_zero < 0.05 * half:
        return "utf-16-be"
    return None


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        label = encoding.upper().replace("-SIG", "")
        raise TranscriptError(
            f"file claims to be {label} but contains invalid bytes", where=name
        ) from None
