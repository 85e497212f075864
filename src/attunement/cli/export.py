"""`attune export`: analyzed sessions in other tools' formats (ConvoKit)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    export = typer.Typer(
        help="Write analyzed sessions in other tools' formats.", no_args_is_help=True
    )
    app.add_typer(export, name="export")

    @export.command("convokit")
    def convokit(
        sessions: list[Path] = typer.Argument(
            ..., help="Analyzed session JSON files (attune analyze --json) or folders of them."
        ),
        out: Path = typer.Option(..., "--out", help="Corpus folder to create."),
    ) -> None:
        """A ConvoKit corpus: speakers, one conversation per session, utterances with
        our codes, probabilities and episode ids as metadata; load it with
        convokit.Corpus(filename=OUT). It holds the transcripts: treat it as PHI."""
        from attunement.agreement.table import expand
        from attunement.interop.convokit import write_corpus
        from attunement.io import read_session

        files = [f for s in sessions for f in expand(str(s))]
        written = write_corpus((read_session(f, fmt="json") for f in files), out)
        typer.echo(
            f"{len(files)} session(s) written as a ConvoKit corpus to {out} ({len(written)} files)"
        )
