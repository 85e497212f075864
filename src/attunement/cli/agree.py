"""`attune agree`: agreement between coders (human and human, human and model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from attunement.errors import AttunementError


def _fmt(x: object, ci: object = None) -> str:
    if x is None:
        return "–"
    text = f"{x:.3f}" if isinstance(x, float) else str(x)
    if isinstance(ci, list) and len(ci) == 2:
        text += f" [{ci[0]:.2f}, {ci[1]:.2f}]"
    return text


def print_report(report: dict[str, Any]) -> None:
    """Rich tables: one row per code (statistic with its bootstrap CI), one per scale."""
    from rich.console import Console
    from rich.table import Table

    from attunement.report.sanitize import terminal_text

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    level = round(report["ci_level"] * 100)
    if report["codes"]:
        t = Table(
            title=f"Agreement per code ({', '.join(terminal_text(c) for c in report['coders'])}; "
            f"{level}% bootstrap CIs, B={report['n_boot']})"
        )
        for col in ("code", "kind", "n", "% agree", "+ agree", "kappa", "alpha", "ordinal α"):
            t.add_column(col, justify="left" if col in ("code", "kind") else "right")
        for code, r in report["codes"].items():
            kappa_key = "cohen_kappa" if "cohen_kappa" in r else "fleiss_kappa"
            t.add_row(
                terminal_text(code),
                r["kind"],
                str(r.get("n_both", r["n_pairable"])),
                _fmt(r.get("percent_agreement"), r.get("percent_agreement_ci")),
                _fmt(r.get("positive_agreement"), r.get("positive_agreement_ci")),
                _fmt(r.get(kappa_key), r.get(f"{kappa_key}_ci")),
                _fmt(r.get("alpha_nominal"), r.get("alpha_nominal_ci")),
                _fmt(r.get("alpha_ordinal"), r.get("alpha_ordinal_ci")),
            )
        console.print(t)
        kind = "Cohen's" if len(report["coders"]) == 2 else "Fleiss'"
        console.print(f"kappa: {kind}. {report['missing']}", soft_wrap=True)
    if report["scales"]:
        t = Table(title=f"Session ratings: ICC ({level}% bootstrap CIs)")
        for col in ("scale", "sessions", "ICC(2,1) agreement", "ICC(3,1) consistency"):
            t.add_column(col, justify="left" if col == "scale" else "right")
        for scale, r in report["scales"].items():
            t.add_row(
                terminal_text(scale),
                str(r["n_sessions"]),
                _fmt(r.get("icc2_1"), r.get("icc2_1_ci")),
                _fmt(r.get("icc3_1"), r.get("icc3_1_ci")),
            )
        console.print(t)


def register(app: typer.Typer) -> None:
    @app.command("agree")
    def agree(
        tables: list[Path] | None = typer.Argument(
            None,
            help="Coder tables (CSV, JSONL, Parquet) whose 'coder' column names each row's "
            "coder. Columns: coder, session, utterance_id or index, code, value[, role, text].",
        ),
        coder: list[str] | None = typer.Option(
            None,
            "--coder",
            help="NAME=FILE: one coder's table (no 'coder' column needed), or analyzed "
            "session JSON (a file, a folder, or a quoted glob such as 'out/*.json') whose "
            "model codes are coder NAME. Repeatable.",
        ),
        ratings: list[Path] | None = typer.Option(
            None,
            "--ratings",
            help="Session-level ratings table (coder, session, scale, value) for ICC.",
        ),
        codes: str | None = typer.Option(
            None, "--codes", help="Only these codes, separated by commas."
        ),
        codebook: Path | None = typer.Option(
            None, "--codebook", help="TOML mapping the tables' code names to ours ([map])."
        ),
        boot: int = typer.Option(1000, "--boot", help="Bootstrap replicates (0: no CIs)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        ci: float = typer.Option(0.95, "--ci", help="Confidence level of the intervals."),
        json_out: Path | None = typer.Option(
            None,
            "--json",
            help="Write the full report (all statistics, CIs) as JSON ('-': stdout).",
        ),
        csv_out: Path | None = typer.Option(
            None, "--csv", help="Write one row per code and scale as CSV ('-': stdout)."
        ),
    ) -> None:
        """Per code: Cohen's kappa (2 coders) or Fleiss' kappa (more), Krippendorff's alpha
        (nominal; ordinal for graded codes), percent and positive agreement, with bootstrap
        CIs over units; per rating scale: ICC(2,1) and ICC(3,1). See docs/agreement.md."""
        from attunement.agreement import agreement_report, to_csv
        from attunement.agreement.report import parse_coder
        from attunement.cli.stdout_guard import stdout_errors

        mapping: dict[str, str] | None = None
        if codebook is not None:
            from attunement.coding.data import load_codebook_map

            mapping = load_codebook_map(codebook).mapping
        report = agreement_report(
            tables or [],
            [parse_coder(c) for c in coder or []],
            ratings or [],
            boot=boot,
            seed=seed,
            level=ci,
            mapping=mapping,
            codes={c.strip() for c in codes.split(",") if c.strip()} if codes else None,
        )
        outputs = [
            (json_out, json.dumps(report, indent=1) + "\n" if json_out else ""),
            (csv_out, to_csv(report) if csv_out else ""),
        ]
        with stdout_errors():
            for target, text in outputs:
                if target is None:
                    continue
                if str(target) == "-":
                    typer.echo(text, nl=False)
                else:
                    try:
                        target.write_text(text, encoding="utf-8")
                    except OSError as exc:
                        raise AttunementError(
                            f"cannot write ({exc.strerror})", where=target.name
                        ) from None
            if "-" not in (str(json_out), str(csv_out)):
                print_report(report)
