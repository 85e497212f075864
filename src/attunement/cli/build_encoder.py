"""`attune build-encoder`: distill the fast static encoder offline (once, ~20 s)."""

from __future__ import annotations

import os
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("build-encoder")
    def build_encoder(
        dest: Path | None = typer.Option(
            None, help="Folder to write (default: $ATTUNEMENT_HOME/encoders/minilm-static-256)."
        ),
        force: bool = typer.Option(False, "--force", help="Rebuild even if it exists."),
        quiet: bool = typer.Option(
            False, "--quiet", help="No progress output; one line when built."
        ),
    ) -> None:
        """Distill the static sentence encoder from the packaged all-MiniLM-L6-v2."""
        from attunement.coding.encoders import build_static_encoder, static_encoder_path

        target = dest or static_encoder_path()
        if (target / "config.json").exists() and not force:
            if not quiet:
                typer.echo(f"static encoder already built: {target}")
            return
        if quiet:  # model2vec and transformers report progress through these switches
            os.environ.setdefault("TQDM_DISABLE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        path = build_static_encoder(target)
        typer.echo(f"static encoder written: {path}")
