"""`attune` entry point.

Every command lives in its own module under ``attunement.cli`` and exposes
``register(app)``; the functions they call are importable library functions. Errors the
user can cause (:class:`~attunement.errors.AttunementError`) become one line on stderr
and exit code 2 — never a traceback, never session content. Set ``ATTUNEMENT_DEBUG=1``
to see tracebacks of unexpected errors.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys

import typer

from attunement.errors import AttunementError

#: command modules, in the order `attune --help` lists them
COMMANDS = (
    "analyze",
    "transcribe",
    "batch",
    "client",
    "train",
    "evaluate",
    "agree",
    "export",
    "deid",
    "codes",
    "build_encoder",
    "serve",
    "backup",
    "remind",
)

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 1


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="attune",
        help=(
            "Attunement: see ruptures in the therapeutic alliance and how they are repaired. "
            "Everything runs locally; nothing leaves this machine unless you export it."
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )

    def _version(value: bool) -> None:
        if value:
            from attunement import __version__

            typer.echo(f"attune {__version__}")
            raise typer.Exit(0)

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress to stderr."),
    ) -> None:
        logging.basicConfig(
            level=logging.INFO if verbose else logging.WARNING,
            format="%(levelname)s %(name)s: %(message)s",
        )

    for name in COMMANDS:
        module = f"attunement.cli.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).register(app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also used by tests)."""
    app = build_app()
    try:
        result = app(args=argv, prog_name="attune", standalone_mode=False)
        return int(result) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        typer.echo("attune: aborted", err=True)
        return 130
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"attune: error: {exc}", err=True)
        return EXIT_USER_ERROR
    except AttunementError as exc:
        from attunement.report.sanitize import terminal_text  # file names can hold escapes

        typer.echo(f"attune: error: {terminal_text(str(exc))}", err=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        typer.echo("attune: interrupted", err=True)
        return 130
    except Exception as exc:  # pragma: no cover - last resort, keeps PHI out of output
        if os.environ.get("ATTUNEMENT_DEBUG"):
            raise
        typer.echo(
            f"attune: internal error ({type(exc).__name__}); "
            "re-run with ATTUNEMENT_DEBUG=1 for details",
            err=True,
        )
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
