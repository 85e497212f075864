"""The public entry points: a file (or bytes) in, a normalized Session out."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from attunement.errors import TranscriptError
from attunement.io.base import DEFAULT_MAX_BYTES, ReadOptions, Source
from attunement.io.detect import reader_for
from attunement.io.normalize import build_session
from attunement.io.speakers import match_names
from attunement.model import Role, Session

log = logging.getLogger(__name__)


def read_session(
    path: str | Path,
    *,
    therapist: Sequence[str] | None = None,
    client: Sequence[str] | None = None,
    fmt: str | None = None,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    audio: Mapping[str, Any] | None = None,
) -> Session:
    """Read one transcript file into a :class:`Session`.

    ``therapist`` / ``client``: speaker names (case-insensitive) whose role is known; the
    rest are inferred. ``fmt``: a reader name from ``READERS`` to skip detection.
    ``columns``: CSV/JSON field names, e.g. ``{"speaker": "Speaker Name"}``. Files over
    ``max_bytes`` are refused before they are read.

    A recording (WAV, MP3, M4A, OGG, WebM, MP4 — told by its first bytes) is transcribed
    on this machine instead (:func:`attunement.audio.transcribe.transcribe`, the ``audio``
    extra); ``audio`` holds its options (``speakers``, ``channels``, ``model_dir``,
    ``max_seconds``) and ``max_bytes`` does not apply (the length limit does).
    """
    path = Path(path)
    if fmt in (None, "audio") and _is_audio(path):
        return _transcribe(path, therapist, client, audio or {})
    data = load_bytes(path, max_bytes)
    return read_session_bytes(
        data,
        path.name,
        therapist=therapist,
        client=client,
        fmt=fmt,
        columns=columns,
        max_bytes=max_bytes,
    )


def read_session_bytes(
    data: bytes,
    name: str,
    *,
    therapist: Sequence[str] | None = None,
    client: Sequence[str] | None = None,
    fmt: str | None = None,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    audio: Mapping[str, Any] | None = None,
) -> Session:
    """Like :func:`read_session` for bytes already in memory; ``name`` is the file name
    used for ``Session.source``, format detection by extension, and error messages."""
    source = Source(data, name)
    if len(data) > max_bytes:
        raise source.error(_too_big(len(data), max_bytes))
    if fmt in (None, "audio") and _sniff_audio(data[:16]):
        return _transcribe(data, therapist, client, audio or {}, name)
    therapists, clients = _names(therapist), _names(client)
    reader = reader_for(source, fmt)
    parsed = reader.read(source, ReadOptions(columns=columns, max_bytes=max_bytes))
    if parsed.session is not None:
        return _apply_roles(parsed.session, source, therapists, clients)
    session = build_session(parsed.turns, source, reader.name, parsed.warnings, therapists, clients)
    log.info(
        "read %s as %s: %d utterances, %d speakers",
        source.name,
        reader.name,
        len(session.utterances),
        len(session.speakers),
    )
    return session


def read_sessions(
    paths: Iterable[str | Path],
    *,
    therapist: Sequence[str] | None = None,
    client: Sequence[str] | None = None,
    fmt: str | None = None,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Session]:
    """Read files lazily, one at a time (a bad file raises when it is reached)."""
    for path in paths:
        yield read_session(
            path,
            therapist=therapist,
            client=client,
            fmt=fmt,
            columns=columns,
            max_bytes=max_bytes,
        )


def _is_audio(path: Path) -> bool:
    from attunement.audio.probe import is_audio

    return is_audio(path)


def _sniff_audio(head: bytes) -> bool:
    from attunement.audio.probe import sniff_audio

    return sniff_audio(head)


def _transcribe(
    path: Path | bytes,
    therapist: Sequence[str] | None,
    client: Sequence[str] | None,
    options: Mapping[str, Any],
    name: str | None = None,
) -> Session:
    from attunement.audio.asr import Transcriber
    from attunement.audio.transcribe import transcribe

    opts = dict(options)
    transcriber = Transcriber(model_dir=opts.pop("model_dir", None))
    return transcribe(
        [path],
        transcriber=transcriber,
        therapist=_names(therapist),
        client=_names(client),
        name=name,
        **opts,
    )


def load_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, refusing missing files, folders and files over ``max_bytes``
    (checked before reading, and again while reading in case the file grows)."""
    name = path.name or str(path)
    try:
        size = os.stat(path).st_size
        if path.is_dir():
            raise TranscriptError("is a folder, not a transcript file", where=name)
        if size > max_bytes:
            raise TranscriptError(_too_big(size, max_bytes), where=name)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise TranscriptError("file not found", where=name) from None
    except PermissionError:
        raise TranscriptError("permission denied", where=name) from None
    except OSError as exc:
        raise TranscriptError(f"cannot read file ({exc.strerror})", where=name) from None
    if len(data) > max_bytes:
        raise TranscriptError(_too_big(len(data), max_bytes), where=name)
    return data


def _too_big(size: int, limit: int) -> str:
    return (
        f"file is {size / 1_048_576:.1f} MB, over the {limit / 1_048_576:.1f} MB limit "
        "(raise the limit with --max-mb or max_bytes)"
    )


def _names(names: Sequence[str] | str | None) -> list[str] | None:
    """Accept a single string where a list was meant (split on commas, as a CLI flag
    would be); drop blanks."""
    if names is None:
        return None
    if isinstance(names, str):
        names = names.split(",")
    kept = [n for n in names if n.strip()]
    return kept or None


def _apply_roles(
    session: Session, source: Source, therapist: list[str] | None, client: list[str] | None
) -> Session:
    """A stored session keeps its roles unless the caller names speakers; named speakers
    get their role, and once therapists are named everyone else is a client."""
    if not therapist and not client:
        return session
    order = [s.id for s in session.speakers]
    by_key = {name.casefold(): name for name in order}
    named_t = match_names(therapist, "therapist", by_key, order, source)
    named_c = match_names(client, "client", by_key, order, source)
    updated = session.model_copy(deep=True)
    for position, speaker in enumerate(updated.speakers, start=1):
        if speaker.id in named_t and speaker.id in named_c:
            # speaker labels are often names: say which one by position, never by label
            raise source.error(
                f"speaker {position} (in order of appearance) is named as both therapist and client"
            )
        if speaker.id in named_t:
            speaker.role, speaker.role_confidence = Role.THERAPIST, 1.0
        elif speaker.id in named_c or named_t:
            speaker.role, speaker.role_confidence = Role.CLIENT, 1.0
    role_of = {s.id: s.role for s in updated.speakers}
    for u in updated.utterances:
        u.role = role_of.get(u.speaker, u.role)
    if not {Role.THERAPIST, Role.CLIENT} <= set(role_of.values()):
        raise source.error("with the names given there is no therapist or no client left")
    return updated


def detect_format(source: str | Path | bytes, name: str = "") -> str:
    """Name of the reader that would read ``source`` (a path, or bytes named ``name``).

    Raises :class:`TranscriptError` when the bytes are not text of a known encoding.
    """
    if isinstance(source, bytes):
        return reader_for(Source(source, name or "<input>")).name
    path = Path(source)
    return reader_for(Source(load_bytes(path), path.name)).name
