"""Reading a client folder: responses, ``client.toml`` and transcripts.

Layout::

    client-dir/
      client.toml          optional: context and events (see course/context.py)
      responses.csv        or responses.json (see measures/responses.py)
      transcripts/         optional: one file per session, any format the readers accept

Everything is read and validated here, before the engine computes anything, so a bad
record stops the run with nothing partially applied.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from attunement.course.context import ClientContext, load_context
from attunement.errors import AttunementError, DependencyError, MeasureError, SchemaError
from attunement.measures.instruments import Instrument, instrument_set
from attunement.measures.responses import Administration, read_responses
from attunement.model import Role, Session
from attunement.model.limits import MAX_SESSION_NUMBER
from attunement.safeparse import safe_loc

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = frozenset({".txt", ".vtt", ".srt", ".docx", ".json", ".md"})


@dataclass
class ClientInputs:
    """Everything read from a client folder, validated."""

    folder: Path
    context: ClientContext
    instruments: dict[str, Instrument]
    administrations: list[Administration]
    sessions: dict[int, Session] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    analyzers: list[str] = field(default_factory=list)


def load_client_folder(
    folder: Path,
    *,
    therapist: str | None = None,
    transcripts: bool = True,
    analyze: bool = True,
    allow_outside_transcripts: bool = False,
) -> ClientInputs:
    """Read ``folder``; with ``transcripts`` read and analyze the session transcripts.

    The transcripts folder (``transcripts`` in client.toml, default ``transcripts/``) and
    every transcript in it must be inside the client folder once symlinks are resolved,
    unless ``allow_outside_transcripts`` (``attune client --allow-outside-transcripts``)."""
    if not folder.is_dir():
        raise MeasureError("the client folder does not exist or is not a folder")
    toml = folder / "client.toml"
    context = load_context(toml) if toml.exists() else ClientContext(client_id=_safe_id(folder))
    extra = [(folder / context.instruments).resolve()] if context.instruments else []
    instruments = instrument_set(extra)
    responses = [p for p in (folder / "responses.csv", folder / "responses.json") if p.exists()]
    if len(responses) > 1:
        raise MeasureError(
            "both responses.csv and responses.json present; keep one", where="client folder"
        )
    admins = read_responses(responses[0], instruments) if responses else []
    if any(a.session > MAX_SESSION_NUMBER for a in admins):
        raise MeasureError(
            f"a session number is over {MAX_SESSION_NUMBER}", where=responses[0].name
        )
    inputs = ClientInputs(folder, context, instruments, admins)
    if not responses:
        inputs.warnings.append("no responses file: questionnaire trajectories are empty")
    _check_events(context, toml)
    if transcripts:
        tdir = folder / (context.transcripts or "transcripts")
        named = "client.toml, field transcripts" if context.transcripts else "transcripts folder"
        inside = None if allow_outside_transcripts else folder
        if inside is not None:  # before the folder is touched at all
            _require_inside(tdir, inside, named)
        if _is_dir(tdir, named):
            names = [therapist] if therapist else context.therapists
            _read_transcripts(inputs, tdir, names, analyze, inside)
        elif context.transcripts:
            inputs.warnings.append("transcript folder named in client.toml does not exist")
    return inputs


def _safe_id(folder: Path) -> str:
    """A pseudonymous id when there is no client.toml: folder names may hold real names."""
    digest = hashlib.sha256(folder.resolve().name.encode("utf-8")).hexdigest()[:10]
    return f"client-{digest}"


def _check_events(context: ClientContext, where: Path) -> None:
    seen: Counter[tuple[str, str]] = Counter((str(e.date), e.kind) for e in context.events)
    dup = [k for k, n in seen.items() if n > 1]
    if dup:
        raise MeasureError(f"duplicate event {dup[0][1]} on {dup[0][0]}", where=where.name)


def _read_one(path: Path, therapists: list[str]) -> Session | None:
    """A session from ``path``: the project's own session JSON directly, else the readers."""
    if path.name.endswith(".session.json"):
        try:
            return Session.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise SchemaError(f"cannot read ({exc.strerror})", where=path.name) from None
        except ValidationError as exc:
            field = safe_loc(exc.errors()[0]["loc"], Session)  # input keys are not echoed
            raise SchemaError(
                f"not an attunement.session/1 file (field {field})", where=path.name
            ) from None
    try:
        from attunement.io import read_session
    except ImportError:
        return None
    session: Session = read_session(path, therapist=therapists or None)
    return session


def _is_dir(path: Path, where: str) -> bool:
    try:
        return path.is_dir()
    except OSError as exc:  # e.g. a name too long for the file system
        raise MeasureError(
            f"cannot open the transcripts folder ({exc.strerror or type(exc).__name__})",
            where=where,
        ) from None


def _require_inside(path: Path, folder: Path, where: str) -> None:
    """Refuse ``path`` when it resolves (symlinks followed) outside ``folder``; the path
    itself is not echoed (it may name a person or reveal the file system)."""
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        raise MeasureError("cannot resolve the transcripts path", where=where) from None
    if not inside:
        raise MeasureError(
            "the transcripts must be inside the client folder (symlinks resolved); "
            "pass --allow-outside-transcripts to read them from elsewhere",
            where=where,
        )


def _read_transcripts(
    inputs: ClientInputs,
    tdir: Path,
    therapists: list[str],
    analyze: bool,
    inside: Path | None = None,
) -> None:
    try:
        files = sorted(
            p
            for p in tdir.iterdir()
            if p.is_file()
            and p.suffix.lower() in TRANSCRIPT_SUFFIXES
            and not p.name.lower().startswith("readme")
            and not p.name.startswith(".")
        )
    except OSError as exc:  # permission denied, or the folder vanished
        raise MeasureError(
            f"cannot list the transcripts folder ({exc.strerror or type(exc).__name__})",
            where="transcripts folder",
        ) from None
    sessions: dict[int, Session] = {}
    skipped = 0
    for path in files:
        if inside is not None:
            _require_inside(path, inside, path.name)
        session = _read_one(path, therapists)
        if session is None:
            skipped += 1
            continue
        number = session.meta.session_number
        if number is None:
            digits = re.findall(r"\d+", path.stem)
            if not digits:
                raise MeasureError(
                    "cannot tell the session number; name it e.g. session-07", where=path.name
                )
            text = (digits[-1] if len(digits[-1]) < 4 else digits[0]).lstrip("0") or "0"
            # compared as text first: a 5,000-digit name must not reach int()
            if len(text) > len(str(MAX_SESSION_NUMBER)) or int(text) > MAX_SESSION_NUMBER:
                raise MeasureError(
                    f"session number in the file name is over {MAX_SESSION_NUMBER}",
                    where=path.name,
                )
            number = int(text)
        if number in sessions:
            raise MeasureError(
                f"duplicate session number {number} among transcripts", where=path.name
            )
        if not any(u.role is Role.CLIENT for u in session.utterances):
            inputs.warnings.append(f"{path.name}: no client turns found")
        sessions[number] = session
    if skipped:
        inputs.warnings.append(f"transcript readers not installed: {skipped} transcript(s) skipped")
    if analyze and sessions:
        inputs.analyzers = _analyze(sessions, inputs.warnings)
    inputs.sessions = dict(sorted(sessions.items()))


def _analyze(sessions: dict[int, Session], warnings: list[str]) -> list[str]:
    """Run the session pipeline with whatever analyzers are installed."""
    from attunement.analysis.base import PipelineContext
    from attunement.analysis.pipeline import analyze, available, build_pipeline

    names = available()
    if not names:
        warnings.append("no session analyzers installed: transcript codes unavailable")
        return []
    try:
        pipeline = build_pipeline(names, PipelineContext())
    except (AttunementError, ImportError) as exc:
        if isinstance(exc, DependencyError):
            raise
        warnings.append(f"session analysis unavailable ({type(exc).__name__})")
        log.warning("session pipeline could not be built: %s", type(exc).__name__)
        return []
    for number, s in sessions.items():
        sessions[number] = analyze(s, pipeline=pipeline)
    return [a.tag for a in pipeline]
