"""`attune train`: fit coding heads (or fine-tune MiniLM) on your own coded transcripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from attunement.errors import AttunementError


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        data: Path = typer.Option(
            ...,
            "--data",
            help="Coded utterances: JSONL, CSV, session-corpus .txt, a one-coder table of "
            "'attune agree' (CSV/JSONL/Parquet with role and text), or a folder.",
        ),
        out: Path = typer.Option(..., "--out", help="Model directory to write."),
        codebook: Path | None = typer.Option(
            None, "--codebook", help="TOML mapping your code names to ours / declaring your own."
        ),
        encoder: str | None = typer.Option(
            None, "--encoder", help="e5 (default), static, minilm, or several joined by +."
        ),
        seed: int = typer.Option(0, "--seed"),
        valid_fraction: float = typer.Option(0.2, "--valid-fraction"),
        min_support: int = typer.Option(
            8, "--min-support", help="Skip (with a warning) codes with fewer positives."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
        finetune: bool = typer.Option(
            False,
            "--finetune",
            help="Fine-tune the MiniLM encoder with task heads instead of fitting linear "
            "heads (needs torch and the 'embed' extra; minutes to hours on CPU).",
        ),
        epochs: int | None = typer.Option(
            None, "--epochs", help="With --finetune: most epochs (early stopping); default 3."
        ),
        train_layers: int | None = typer.Option(
            None, "--train-layers", help="With --finetune: top encoder layers updated (1-6; 3)."
        ),
    ) -> None:
        """Train a coding model; prints per-code validation scores (group-aware split).

        With --finetune the top layers of the MiniLM encoder are updated with a head per
        task (more accurate on some tasks, much slower to train and to apply).
        """
        if finetune:
            if encoder is not None:
                raise AttunementError("--encoder does not apply to --finetune (it uses MiniLM)")
            _finetune(
                data,
                out,
                codebook,
                seed,
                valid_fraction,
                min_support,
                3 if epochs is None else epochs,
                3 if train_layers is None else train_layers,
                as_json,
            )
            return
        for flag, value in (("--epochs", epochs), ("--train-layers", train_layers)):
            if value is not None:
                raise AttunementError(f"{flag} applies only with --finetune")
        encoder = encoder or "e5"
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
        from attunement.cli.stdout_guard import stdout_errors

        with stdout_errors():
            _print_trained(result, out, as_json)


def _print_trained(result: Any, out: Path, as_json: bool) -> None:
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


def _finetune(
    data: Path,
    out: Path,
    codebook: Path | None,
    seed: int,
    valid_fraction: float,
    min_support: int,
    epochs: int,
    train_layers: int,
    as_json: bool,
) -> None:
    from attunement.coding.finetune_apply import finetune_from_path

    result = finetune_from_path(
        data,
        out,
        codebook_map=codebook,
        seed=seed,
        epochs=epochs,
        valid_fraction=valid_fraction,
        min_support=min_support,
        train_layers=train_layers,
        created_by=(
            f"attune train --finetune --data {data.name} --out {out.name} --epochs {epochs} "
            f"--train-layers {train_layers} --seed {seed} --valid-fraction {valid_fraction} "
            f"--min-support {min_support}" + (f" --codebook {codebook.name}" if codebook else "")
        ),
    )
    from attunement.cli.stdout_guard import stdout_errors

    with stdout_errors():
        _print_finetuned(result, out, as_json)


def _print_finetuned(result: Any, out: Path, as_json: bool) -> None:
    card = result.report.card
    if as_json:
        import json

        typer.echo(
            json.dumps(
                {
                    "model": str(out),
                    "validation": result.validation,
                    "skipped": result.skipped,
                    "tasks": card.validation,
                    "best_epoch": card.best_epoch,
                    "epochs_run": card.epochs_run,
                },
                indent=2,
            )
        )
        return
    from attunement.cli.evaluate import print_report

    typer.echo(
        f"fine-tuned model written to {out} ({card.n_train} training, {card.n_valid} "
        f"validation utterances; epoch {card.best_epoch} of {card.epochs_run} kept, "
        f"{card.train_seconds:.0f} s)"
    )
    for task, why in result.skipped.items():
        typer.echo(f"skipped {task}: {why}", err=True)
    if result.validation:
        print_report(result.validation, title="Validation")
    else:
        typer.echo("no validation split (too little data): no scores", err=True)


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
