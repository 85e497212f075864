"""`attune deid`: de-identified copies of transcripts for sharing."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("deid")
    def deid(
        inputs: list[str] = typer.Argument(
            None, help="Transcript files, folders or glob patterns (any supported format)."
        ),
        out: Path = typer.Option(
            ..., "--out", help="Folder to create (must not exist, or be empty)."
        ),
        group_by: str = typer.Option(
            "auto",
            "--group-by",
            help="Which sessions share placeholders: 'auto' (the client id the transcript "
            "or --inputs-csv gives, else the file's folder), 'folder', 'file' or 'all'.",
        ),
        fmt: str = typer.Option(
            "json", "--format", help="'json' (session schema) or 'text' (labelled lines)."
        ),
        inputs_csv: Path | None = typer.Option(
            None, "--inputs-csv", help="CSV with a 'path' column and optionally client_id."
        ),
        key: Path | None = typer.Option(
            None,
            "--key",
            help="Also write the re-identification key (placeholder → original words, "
            "output → input) to this file, mode 0600. It is PHI: never share it.",
        ),
        presidio: bool = typer.Option(
            False,
            "--presidio",
            help="Add Presidio's pattern recognizers (extra 'deid-presidio'; ~7 s to load).",
        ),
    ) -> None:
        """Replace names, places, organisations, dates, ages, phone numbers, e-mails,
        addresses, web addresses and record numbers with placeholders that stay the same
        across a client's sessions ([PERSON_1]); speaker labels that are names too.
        Writes one file per session, deid_report.json (what was replaced where, by type
        and placeholder — no original words) and, with --key, the key. Automatic
        de-identification misses some identifiers (see docs/deid.md for measured
        recall): review before sharing."""
        from attunement.batch.runner import collect_inputs
        from attunement.deid.run import run_deid

        items = [(i.path, i.meta) for i in collect_inputs(inputs or [], inputs_csv)]
        summary = run_deid(items, out, group_by=group_by, fmt=fmt, key=key, use_presidio=presidio)
        typer.echo(summary)
