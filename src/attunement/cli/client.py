"""`attune client DIR`: one client's course across sessions."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("client")
    def client(
        folder: Path = typer.Argument(
            ..., help="Client folder: responses.csv/json, client.toml, transcripts/."
        ),
        json_path: Path | None = typer.Option(
            None, "--json", help="Write the course as JSON (attunement.client/1)."
        ),
        html_path: Path | None = typer.Option(
            None, "--html", help="Write a self-contained HTML report."
        ),
        fhir_path: Path | None = typer.Option(
            None, "--fhir", help="Write a FHIR R4 Bundle (JSON)."
        ),
        therapist: str | None = typer.Option(
            None, "--therapist", help="Speaker label of the therapist."
        ),
        no_transcripts: bool = typer.Option(False, "--no-transcripts", help="Ignore transcripts."),
    ) -> None:
        """Trajectories, rupture episodes across sessions, dropout warning signs, alerts."""
        from rich.console import Console

        from attunement.course import load_client_folder
        from attunement.course.engine import compute_course
        from attunement.report.client import render_terminal, write_html, write_json

        inputs = load_client_folder(folder, therapist=therapist, transcripts=not no_transcripts)
        if not (inputs.administrations or inputs.sessions or inputs.context.events):
            from attunement.errors import MeasureError

            # the folder name is not echoed: it may be the client's name
            raise MeasureError(
                "nothing to read in the client folder: expected responses.csv or "
                "responses.json, a transcripts/ folder, or events in client.toml"
            )
        course = compute_course(inputs)
        render_terminal(course, Console())
        if json_path is not None:
            write_json(course, json_path)
            typer.echo(f"wrote {json_path}")
        if html_path is not None:
            write_html(course, html_path)
            typer.echo(f"wrote {html_path}")
        if fhir_path is not None:
            from attunement.measures.fhir import write_bundle

            write_bundle(inputs.administrations, inputs.instruments, course.client_id, fhir_path)
            typer.echo(f"wrote {fhir_path}")
