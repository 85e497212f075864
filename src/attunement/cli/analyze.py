"""`attune analyze FILE…`: read, analyze and report on transcripts.

Thin: options are parsed here, the work is done by ``attunement.io.read_session``,
``attunement.analysis.pipeline`` and ``attunement.report``. The pipeline is built once;
sessions stream one at a time (memory stays flat). A bad input is reported as one line
and, by default, the run continues; the exit code is 2 if any input failed. Nothing is
imported at module import time beyond typer, so ``attune --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

#: = attunement.model.limits.MAX_SESSION_NUMBER (not imported: keeps `--help` fast;
#: tests/io/test_hostile_bounds.py checks they agree)
_MAX_SESSION_NUMBER = 10_000

if TYPE_CHECKING:
    from attunement.analysis.base import Analyzer
    from attunement.model import Session
    from attunement.report.outputs import Target

EXIT_FAILED = 2


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_cmd(
        files: list[Path] = typer.Argument(
            ..., help="Transcripts or recordings, or folders (every one inside, sorted)."
        ),
        therapist: list[str] = typer.Option(
            [], "--therapist", help="Speaker label of a therapist (repeatable)."
        ),
        client: list[str] = typer.Option(
            [], "--client", help="Speaker label of a client (repeatable)."
        ),
        fmt: str | None = typer.Option(
            None, "--format", help="Reader to use instead of detection: text, vtt, srt, csv, …"
        ),
        json_out: str | None = typer.Option(
            None, "--json", help="Session JSON: a folder, a file (one input) or '-' for stdout."
        ),
        html_out: str | None = typer.Option(
            None, "--html", help="Self-contained HTML report: a folder or a file (one input)."
        ),
        md_out: str | None = typer.Option(
            None, "--markdown", help="Markdown report: a folder, a file or '-' for stdout."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No terminal summary."),
        analyzers: str | None = typer.Option(
            None, "--analyzers", help="Comma-separated analyzer names (default: all available)."
        ),
        encoder: str = typer.Option(
            "static",
            "--encoder",
            help="Sentence encoder for the language metrics: static, e5, minilm or a folder "
            "(the coding model loads the encoder it was trained with).",
        ),
        model: Path | None = typer.Option(
            None, "--model", help="Coding model folder (from attune train, or --finetune)."
        ),
        fast: bool = typer.Option(
            False,
            "--fast",
            help="Use the bundled fast coding model (static encoder, ~30x faster, less accurate).",
        ),
        client_id: str | None = typer.Option(None, "--client-id", help="Set session.meta."),
        session_number: int | None = typer.Option(
            None, "--session-number", min=0, max=_MAX_SESSION_NUMBER, help="Set session.meta."
        ),
        date: str | None = typer.Option(None, "--date", help="Session date, YYYY-MM-DD."),
        fail_fast: bool = typer.Option(
            False, "--fail-fast/--continue", help="Stop at the first bad input (default: go on)."
        ),
        max_mb: float = typer.Option(
            50.0, "--max-mb", min=0.001, help="Refuse transcripts larger than this (MB)."
        ),
        speakers: int | None = typer.Option(
            None, "--speakers", min=1, max=6, help="Recordings: voices in a mixed track."
        ),
        asr_model: Path | None = typer.Option(
            None, "--asr-model", help="Recordings: a CTranslate2 Whisper model folder."
        ),
    ) -> None:
        """Analyze transcripts or recordings: rupture markers, empathy and repair, metrics,
        episodes (recordings are transcribed on this machine first, docs/audio.md)."""
        from attunement.analysis.base import PipelineContext
        from attunement.analysis.pipeline import available, build_pipeline
        from attunement.io import READERS
        from attunement.report.outputs import expand_inputs, resolve_target

        meta = _meta(client_id, session_number, date)
        from attunement.audio.probe import AUDIO_EXTENSIONS

        exts = [e for r in READERS.values() for e in r.extensions] + list(AUDIO_EXTENSIONS)
        inputs = expand_inputs(files, exts)
        if not inputs:
            from attunement.errors import AttunementError

            raise AttunementError("no transcript files found in the given folders")
        targets: dict[str, Target] = {}
        for writer, spec in (("json", json_out), ("html", html_out), ("markdown", md_out)):
            if spec is not None:
                targets[writer] = resolve_target(f"--{writer}", spec, len(inputs))
        for t in targets.values():
            t.prepare()
        names = [n.strip() for n in analyzers.split(",") if n.strip()] if analyzers else None
        if fast and model is not None:
            from attunement.errors import AttunementError

            raise AttunementError("give either --fast or --model, not both")
        if fast:
            from attunement.coding.card import fast_model_dir

            model = fast_model_dir()
        ctx = PipelineContext(encoder_name=encoder, model_dir=model)
        pipeline = build_pipeline(names if names is not None else available(), ctx)
        to_stdout = any(t.kind == "stdout" for t in targets.values())
        run = _Run(
            pipeline=pipeline,
            targets=targets,
            read_options={
                "therapist": therapist or None,
                "client": client or None,
                "fmt": fmt,
                "max_bytes": int(max_mb * 1024 * 1024),
                "audio": {"speakers": speakers, "model_dir": asr_model},
            },
            meta=meta,
            summary=not (quiet or to_stdout),
            many=len(inputs) > 1,
        )
        failed = run.all(inputs, fail_fast)
        if failed:
            raise typer.Exit(EXIT_FAILED)


def _meta(client_id: str | None, number: int | None, date: str | None) -> dict[str, Any]:
    import datetime as dt

    from attunement.errors import AttunementError

    meta: dict[str, Any] = {}
    if client_id is not None:
        meta["client_id"] = client_id
    if number is not None:
        meta["session_number"] = number
    if date is not None:
        try:
            meta["date"] = dt.date.fromisoformat(date)
        except ValueError:
            raise AttunementError("expected a date like 2026-03-09", where="--date") from None
    return meta


def _shown(line: str) -> str:
    from attunement.report.sanitize import terminal_text  # file names can hold escapes

    return terminal_text(line)


def _stderr_line(line: str) -> None:
    typer.echo(_shown(line), err=True)


class _Run:
    """One `attune analyze` run: the pipeline built once, inputs processed in order."""

    def __init__(
        self,
        pipeline: list[Analyzer],
        targets: dict[str, Target],
        read_options: dict[str, Any],
        meta: dict[str, Any],
        summary: bool,
        many: bool,
    ) -> None:
        from attunement.report import get_writer

        self.pipeline = pipeline
        self.targets = targets
        self.read_options = read_options
        self.meta = meta
        self.summary = summary
        self.writers = {
            name: get_writer(name, pretty=not (many and t.kind == "stdout"))
            if name == "json"
            else get_writer(name)
            for name, t in targets.items()
        }
        self._echo_err: Callable[[str], None] = _stderr_line
        #: False once a write to stdout failed (full disk): reported once, then skipped
        self.stdout_ok = True

    def all(self, inputs: list[tuple[Path, str]], fail_fast: bool) -> int:
        """Process every input; the number that failed (plus one if stdout failed)."""
        try:
            failed = self._all(inputs, fail_fast)
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly
            from attunement.cli.stdout_guard import silence_stdout

            silence_stdout()
            return 1
        return failed + (not self.stdout_ok)

    def _all(self, inputs: list[tuple[Path, str]], fail_fast: bool) -> int:
        failed = 0
        if len(inputs) > 1 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task("analyzing", total=len(inputs))

                def echo(line: str) -> None:
                    progress.console.print(
                        _shown(line), markup=False, highlight=False, soft_wrap=True
                    )

                self._echo_err = echo
                for path, name in inputs:
                    ok = self.one(path, name)
                    failed += not ok
                    progress.advance(task)
                    if not ok and fail_fast:
                        break
            return failed
        for path, name in inputs:
            ok = self.one(path, name)
            failed += not ok
            if not ok and fail_fast:
                break
        return failed

    def one(self, path: Path, name: str) -> bool:
        """Read, analyze and write one input; False (after one error line) if it failed."""
        from attunement.errors import AttunementError, without_file

        try:
            session = self._analyze(path)
            # render everything before writing anything: no partial output for a failure
            rendered = {w: self.writers[w].render(session) for w in self.targets}
            self._write(rendered, name)
        except AttunementError as exc:
            where = without_file(exc.where, path)
            msg = f"{where}: {exc.message}" if where else exc.message
            self._echo_err(f"attune: error: {path}: {msg}")
            return False
        except BrokenPipeError:  # stdout closed: the whole run stops (see all())
            raise
        except OSError as exc:
            self._echo_err(f"attune: error: {path}: {exc.strerror or type(exc).__name__}")
            return False
        except Exception as exc:
            if os.environ.get("ATTUNEMENT_DEBUG"):
                raise
            self._echo_err(
                f"attune: error: {path}: internal error ({type(exc).__name__}); "
                "re-run with ATTUNEMENT_DEBUG=1 for details"
            )
            return False
        if self.summary and self.stdout_ok:
            from rich.console import Console

            from attunement.report.terminal import TerminalWriter

            try:
                TerminalWriter().print_summary(session, Console(highlight=False, emoji=False))
                sys.stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                self._stdout_failed(exc)
        return True

    def _stdout_failed(self, exc: OSError) -> None:
        """One line for a failed write to stdout (full disk); later stdout output is
        skipped, the files other options name are still written."""
        from attunement.cli.stdout_guard import stdout_failure

        if self.stdout_ok:
            self.stdout_ok = False
            self._echo_err(f"attune: error: {stdout_failure(exc)}")

    def _analyze(self, path: Path) -> Session:
        from attunement.analysis.pipeline import analyze
        from attunement.io import read_session

        session = read_session(path, **self.read_options)
        if self.meta:
            session.meta = session.meta.model_copy(update=self.meta)
        return analyze(session, pipeline=self.pipeline)

    def _write(self, rendered: dict[str, str], name: str) -> None:
        """All files of one input together (nothing new is left if one fails), then stdout."""
        from attunement.report.base import write_files

        files, to_stdout = [], []
        for writer, text in rendered.items():
            out = self.targets[writer].file_for(name, self.writers[writer].suffix)
            if out is None:
                to_stdout.append(text)
            else:
                files.append((out, text))
        write_files(files)
        for text in to_stdout if self.stdout_ok else ():
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                self._stdout_failed(exc)
