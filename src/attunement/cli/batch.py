"""`attune batch INPUT… --out results/`: code a corpus into Parquet tables.

Thin: options are parsed here, the work is done by :func:`attunement.batch.runner.run_batch`.
A failed input is reported as one line and never stops the batch; the exit code is 2 if
any input failed. See docs/batch.md.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from attunement.batch.manifest import InputResult
    from attunement.batch.runner import BatchJob, Item

EXIT_FAILED = 2


def register(app: typer.Typer) -> None:
    @app.command("batch")
    def batch_cmd(
        inputs: list[str] = typer.Argument(
            None, help="Transcript files, folders or glob patterns ('corpus/**/*.vtt')."
        ),
        out: Path = typer.Option(..., "--out", help="Results folder (created; reruns resume)."),
        inputs_csv: Path | None = typer.Option(
            None,
            "--inputs-csv",
            help="CSV listing inputs: a 'path' column, optional client_id, therapist_id, "
            "session_number, date, modality (paths relative to the CSV).",
        ),
        engine: str = typer.Option("local", "--engine", help="local (processes) or ray."),
        workers: int | None = typer.Option(
            None, "--workers", min=1, help="Worker processes or Ray actors (default: cores)."
        ),
        address: str | None = typer.Option(
            None, "--address", help="Ray cluster address (default: start a local Ray)."
        ),
        therapist: list[str] = typer.Option(
            [], "--therapist", help="Speaker label of a therapist (repeatable)."
        ),
        client: list[str] = typer.Option(
            [], "--client", help="Speaker label of a client (repeatable)."
        ),
        fmt: str | None = typer.Option(None, "--format", help="Reader instead of detection."),
        analyzers: str | None = typer.Option(
            None, "--analyzers", help="Comma-separated analyzer names (default: all available)."
        ),
        encoder: str = typer.Option("static", "--encoder", help="Sentence encoder, as analyze."),
        model: Path | None = typer.Option(None, "--model", help="Coding model folder."),
        fast: bool = typer.Option(False, "--fast", help="Use the bundled fast coding model."),
        text: bool = typer.Option(
            False, "--text", help="Also write each utterance's words (more PHI in the tables)."
        ),
        csv_out: bool = typer.Option(False, "--csv", help="Also write csv/<level>.csv."),
        max_mb: float = typer.Option(
            50.0, "--max-mb", min=0.001, help="Refuse transcripts larger than this (MB)."
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
    ) -> None:
        """Code a corpus: utterance, episode and session tables (Parquet) and a manifest."""
        from attunement.batch.runner import BatchJob, collect_inputs, require_pyarrow
        from attunement.errors import AttunementError

        require_pyarrow()
        if fast and model is not None:
            raise AttunementError("give either --fast or --model, not both")
        if fast:
            from attunement.coding.card import fast_model_dir

            model = fast_model_dir()
        if engine not in ("local", "ray"):
            raise AttunementError("unknown engine; use local or ray", where="--engine")
        if address is not None and engine != "ray":
            raise AttunementError("--address needs --engine ray", where="--address")
        if not inputs and inputs_csv is None:
            raise AttunementError("give transcript files, folders, patterns or --inputs-csv")
        items = collect_inputs(inputs or [], inputs_csv)
        names = [n.strip() for n in analyzers.split(",") if n.strip()] if analyzers else None
        job = BatchJob(
            out=out,
            analyzers=names,
            encoder=encoder,
            model_dir=model,
            read_options={
                "therapist": therapist or None,
                "client": client or None,
                "fmt": fmt,
                "max_bytes": int(max_mb * 1024 * 1024),
            },
            text=text,
        )
        failed = _run(job, items, engine, workers, address, csv_out, quiet)
        if failed:
            raise typer.Exit(EXIT_FAILED)


def _line(text: str) -> str:
    from attunement.report.sanitize import terminal_text  # file names can hold escapes

    return terminal_text(text)


def _run(
    job: BatchJob,
    todo: list[Item],
    engine: str,
    workers: int | None,
    address: str | None,
    csv_out: bool,
    quiet: bool,
) -> int:
    from attunement.batch.runner import Engine, run_batch

    run_engine: Engine
    if engine == "ray":
        from attunement.batch.ray_ import ray_engine

        run_engine = ray_engine(address)
    else:
        from attunement.batch.local import run_local

        run_engine = run_local

    def report(res: InputResult) -> None:
        if res.status == "failed":
            echo(f"attune: error: {res.path}: {res.error}")

    def echo(line: str) -> None:
        typer.echo(_line(line), err=True)

    if quiet or not sys.stderr.isatty():
        manifest = run_batch(
            job,
            todo,
            engine=run_engine,
            engine_name=engine,
            workers=workers,
            on_result=report,
            csv_out=csv_out,
        )
    else:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("coding", total=len(todo))

            def echo_progress(line: str) -> None:
                progress.console.print(_line(line), markup=False, highlight=False, soft_wrap=True)

            def step(res: InputResult) -> None:
                if res.status == "failed":
                    echo_progress(f"attune: error: {res.path}: {res.error}")
                progress.advance(task)

            manifest = run_batch(
                job,
                todo,
                engine=run_engine,
                engine_name=engine,
                workers=workers,
                on_result=step,
                csv_out=csv_out,
            )
    counts = manifest.counts()
    if counts["failed"]:
        echo(
            f"attune: error: {counts['failed']} of {len(todo)} inputs failed "
            f"(details in {job.out / 'manifest.json'})"
        )
    elif not quiet:
        echo(
            f"attune: {counts['done']} coded, {counts['skipped']} already done; tables in {job.out}"
        )
    return counts["failed"]
