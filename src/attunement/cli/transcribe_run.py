"""The work behind `attune transcribe` (kept out of the command module so `--help` stays
fast): progress on stderr, all outputs written only when every input succeeded."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from attunement.errors import AttunementError

if TYPE_CHECKING:
    from attunement.audio.asr import Transcriber
    from attunement.model import Session

CHANNELS = ("auto", "split", "mix")
FORMATS = ("json", "text")


def run(
    audio: Sequence[Path],
    *,
    out: Path | None,
    tracks: bool,
    speakers: int | None,
    channels: str,
    asr_model: Path | None,
    therapist: Sequence[str],
    client: Sequence[str],
    fmt: str,
    max_seconds: float,
) -> None:
    from attunement.report.base import write_files
    from attunement.report.transcript import as_text

    if channels not in CHANNELS:
        raise AttunementError(f"--channels must be one of {', '.join(CHANNELS)}")
    if fmt not in FORMATS:
        raise AttunementError(f"--format must be one of {', '.join(FORMATS)}")
    if out is not None and out.exists() and not out.is_dir():
        raise AttunementError("--out must be a folder", where=str(out))
    from attunement.audio.asr import Transcriber

    groups = [list(audio)] if tracks else [[p] for p in audio]
    asr = Transcriber(model_dir=asr_model)
    results = []
    for paths in groups:
        results.append(
            (
                paths[0],
                _one(paths, asr, speakers, channels, therapist, client, max_seconds, tracks),
            )
        )
    rendered = []
    for first, session in results:
        text = (
            as_text(session)
            if fmt == "text"
            else session.model_dump_json(indent=2, exclude_none=True)
        )
        rendered.append((first, text))
    if out is None:
        for _, text in rendered:
            typer.echo(text.rstrip("\n"))
        return
    out.mkdir(parents=True, exist_ok=True)
    ext = ".txt" if fmt == "text" else ".json"
    write_files([(out / f"{first.stem}{ext}", text) for first, text in rendered])
    typer.echo(f"{len(rendered)} transcript(s) written to {out}", err=True)


def _one(
    paths: list[Path],
    asr: Transcriber,
    speakers: int | None,
    channels: str,
    therapist: Sequence[str],
    client: Sequence[str],
    max_seconds: float,
    tracks_given: bool,
) -> Session:
    from attunement.audio.transcribe import Progress as Report
    from attunement.audio.transcribe import transcribe

    def go(progress: Report | None) -> Session:
        return transcribe(
            list(paths),
            transcriber=asr,
            speakers=speakers,
            channels=channels,
            therapist=list(therapist) or None,
            client=list(client) or None,
            max_seconds=max_seconds,
            progress=progress,
            tracks_given=tracks_given,
        )

    if not sys.stderr.isatty():
        return go(None)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"transcribing {paths[0].name}", total=None)

        def progress(label: str, done: float, total: float) -> None:
            bar.update(task, total=total, completed=done, description=f"transcribing {label}")

        return go(progress)
