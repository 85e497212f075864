"""`attune codes`: the codebook as a table (or JSON), so clinicians can look codes up."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("codes")
    def codes(
        as_json: bool = typer.Option(False, "--json", help="Print the codebook as JSON."),
        family: list[str] = typer.Option(
            [], "--family", help="Only this family (repeatable): withdrawal, confrontation, …"
        ),
        describe: bool = typer.Option(False, "--describe", "-d", help="Show descriptions."),
    ) -> None:
        """List the clinical codes: identifier, family, who it applies to, label."""
        from attunement.errors import AttunementError
        from attunement.model import default_codebook

        cb = default_codebook()
        known = sorted({c.family for c in cb.code})
        unknown = [f for f in family if f not in known]
        if unknown:
            raise AttunementError(
                f"unknown family {unknown[0]!r}; known: {', '.join(known)}", where="--family"
            )
        selected = [c for c in cb.code if not family or c.family in family]
        if as_json:
            import json

            payload = {
                "version": cb.version,
                "empathy_levels": list(cb.empathy_levels),
                "codes": [
                    {
                        "id": c.id,
                        "family": c.family,
                        "role": c.role,
                        "label": c.label,
                        "description": c.description,
                    }
                    for c in selected
                ],
            }
            typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Attunement codebook {cb.version}")
        for col in ("id", "family", "role", "label"):
            table.add_column(col, no_wrap=col == "id")
        if describe:
            table.add_column("description")
        for c in selected:
            row = [c.id, c.family, c.role, c.label]
            if describe:
                row.append(c.description)
            table.add_row(*row)
        Console(highlight=False).print(table)
