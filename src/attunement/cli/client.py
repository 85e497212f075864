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
        allow_outside_transcripts: bool = typer.Option(
            False,
            "--allow-outside-transcripts",
            help="Read transcripts from a folder outside the client folder when client.toml "
            "names one (by default the transcripts folder must be inside it).",
        ),
    ) -> None:
        """Trajectories, rupture episodes across sessions, dropout warning signs, alerts.

        The output files are rendered first and written together: if anything fails, none
        of them is created or changed.
        """
        from rich.console import Console

        from attunement.course import load_client_folder
        from attunement.course.engine import compute_course
        from attunement.errors import AttunementError, MeasureError
        from attunement.report.client import render_html, render_terminal
        from attunement.report.client.files import atomic_write_set
        from attunement.report.client.json_ import bundle_json, course_json
        from attunement.report.sanitize import terminal_text

        inputs = load_client_folder(
            folder,
            therapist=therapist,
            transcripts=not no_transcripts,
            allow_outside_transcripts=allow_outside_transcripts,
        )
        if not (inputs.administrations or inputs.sessions or inputs.context.events):
            # the folder name is not echoed: it may be the client's name
            raise MeasureError(
                "nothing to read in the client folder: expected responses.csv or "
                "responses.json, a transcripts/ folder, or events in client.toml"
            )
        course = compute_course(inputs)
        # render every output before writing any: a failure leaves no partial set
        outputs: list[tuple[str, Path, str]] = []
        if json_path is not None:
            outputs.append(("--json", json_path, course_json(course)))
        if html_path is not None:
            outputs.append(("--html", html_path, render_html(course)))
        if fhir_path is not None:
            text = bundle_json(inputs.administrations, inputs.instruments, course.client_id)
            outputs.append(("--fhir", fhir_path, text))
        from attunement.cli.stdout_guard import stdout_errors

        with stdout_errors():  # a full disk or closed pipe: one line, nothing written
            render_terminal(course, Console(highlight=False, emoji=False))
        try:
            atomic_write_set((path, text) for _, path, text in outputs)
        except OSError as exc:
            raise AttunementError(
                f"cannot write the output ({exc.strerror or type(exc).__name__}); "
                "no output file was written",
                where=_option_for(exc, [(o, p) for o, p, _ in outputs]),
            ) from None
        with stdout_errors():
            for _, path, _ in outputs:
                typer.echo(f"wrote {terminal_text(str(path))}")


def _option_for(exc: OSError, outputs: list[tuple[str, Path]]) -> str | None:
    """The option (``--json``…) whose file or folder an OS error is about."""
    if exc.filename is None:
        return None
    failed = Path(str(exc.filename))
    for option, path in outputs:
        if failed in (path, path.parent) or failed.parent == path.parent:
            return option
    return None
