"""`attune train`: fit coding heads on your own coded transcripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        data: Path = typer.Option(..., "--data", help="Coded utterances: JSONL, CSV or a folder."),
        out: Path = typer.Option(..., "--out", help="Model directory to write."),
        codebook: Path | None = typer.Option(
            None, "--codebook", help="TOML mapping your code names to ours / declaring your own."
        ),
        encoder: str = typer.Option(
            "static", "--encoder", help="static, minilm, or both: static+minilm."
        ),
        seed: int = typer.Option(0, "--seed"),
        valid_fraction: float = typer.Option(0.2, "--valid-fraction"),
        min_support: int = typer.Option(
            8, "--min-support", help="Skip (with a warning) codes with fewer positives."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Train a coding model; prints per-code validation scores (group-aware split)."""
        from attunement.coding.train import train_from_path

        result = train_from_path(
            data,
            out,
            codebook_map=codebook,
            encoder=encoder,
            seed=seed,
            valid_fraction=valid_fraction,
            min_support=min_support,
            created_by=(
                f"attune train --data {data.name} --out {out.name} --encoder {encoder} "
                f"--seed {seed} --valid-fraction {valid_fraction} --min-support {min_support}"
                + (f" --codebook {codebook.name}" if codebook else "")
            ),
        )
        card = result.model.card
        if as_json:
            import json

            typer.echo(
                json.dumps(
                    {"model": str(out), "validation": result.report, "skipped": card.skipped},
                    indent=2,
                )
            )
            return
        from attunement.cli.evaluate import print_report

        typer.echo(
            f"model written to {out} ({card.training['n_train']} training, "
            f"{card.training['n_valid']} validation utterances)"
        )
        for code, why in card.skipped.items():
            typer.echo(f"skipped {code}: {why}", err=True)
        print_report(_as_eval(result.report), title="Validation")


def _as_eval(report: dict[str, Any]) -> dict[str, Any]:
    """Reshape the training report (per head) into the evaluate report shape."""
    out: dict[str, Any] = {"codes": {}, "empathy": {}}
    for name, r in report.items():
        if "per_code" in r:
            out["codes"].update(r["per_code"])
        elif name == "behaviour":
            out["behaviour"] = r
        else:
            out["empathy"][name] = r
    if out["codes"]:
        out["codes_macro_f1"] = sum(s["f1"] for s in out["codes"].values()) / len(out["codes"])
    return out
