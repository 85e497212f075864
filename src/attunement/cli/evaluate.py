"""`attune evaluate`: agreement between model codes and human codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def print_report(report: dict[str, Any], title: str = "Evaluation") -> None:
    """Rich tables: binary codes, empathy mechanisms (with confusion), behaviour."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # piped output: don't squeeze the confusion matrix to 80 cols
        console = Console(width=120)
    if report.get("codes"):
        t = Table(title=f"{title}: codes (macro-F1 {report.get('codes_macro_f1', 0):.3f})")
        for col in ("code", "precision", "recall", "F1", "kappa", "support"):
            t.add_column(col, justify="left" if col == "code" else "right")
        for code, s in report["codes"].items():
            t.add_row(
                code,
                f"{s['precision']:.3f}",
                f"{s['recall']:.3f}",
                f"{s['f1']:.3f}",
                f"{s['kappa']:.3f}",
                str(s["support"]),
            )
        console.print(t)
    multi = dict(report.get("empathy", {}))
    if report.get("behaviour"):
        multi["behaviour"] = report["behaviour"]
    for name, r in multi.items():
        t = Table(
            title=f"{title}: {name} (macro-F1 {r['macro_f1']:.3f}, kappa {r['kappa']:.3f}, "
            f"accuracy {r['accuracy']:.3f})"
        )
        t.add_column("gold \\ predicted", no_wrap=True)
        for i in range(len(r["labels"])):
            t.add_column(str(i + 1), justify="right")
        for col in ("P", "R", "F1", "n"):
            t.add_column(col, justify="right")
        for i, (lab, row) in enumerate(zip(r["labels"], r["confusion"], strict=True)):
            s = r["per_class"][lab]
            t.add_row(
                f"{i + 1} {lab}",
                *[str(v) for v in row],
                f"{s['precision']:.2f}",
                f"{s['recall']:.2f}",
                f"{s['f1']:.2f}",
                str(s["support"]),
            )
        console.print(t)


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        gold: Path = typer.Option(
            ..., "--gold", help="Human codes: JSONL/CSV corpus or session JSON."
        ),
        pred: Path | None = typer.Option(None, "--pred", help="Coded session JSON to compare."),
        model: Path | None = typer.Option(
            None, "--model", help="Model directory to code the gold file with (default: bundled)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Per-code precision, recall, F1, macro-F1, Cohen's kappa and confusion matrices."""
        from attunement.cli.stdout_guard import stdout_errors
        from attunement.coding.evaluate import evaluate_paths

        report = evaluate_paths(gold, pred=pred, model_dir=model)
        with stdout_errors():
            if as_json:
                typer.echo(json.dumps(report, indent=2))
            else:
                print_report(report)
