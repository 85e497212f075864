"""Standard output that cannot be written: a full disk, a closed pipe.

``attune analyze … > /dev/full`` or ``attune evaluate … | head -1`` must not end in
``internal error (OSError)`` or a traceback at interpreter exit. :func:`stdout_errors`
wraps the code that prints: a closed pipe (``EPIPE``) ends the command quietly, as Unix
tools do; any other write error becomes one line naming standard output. Either way the
exit code is not 0, and standard output is pointed at ``/dev/null`` so Python's final
flush does not fail again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from attunement.errors import AttunementError

EXIT_PIPE = 2


class OutputError(AttunementError):
    """Standard output could not be written."""


def silence_stdout() -> None:
    """Send whatever is still buffered for stdout to /dev/null (best effort)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def stdout_failure(exc: OSError) -> OutputError:
    """The one-line error for a failed write to stdout (after silencing it)."""
    silence_stdout()
    return OutputError(
        f"cannot write to standard output ({exc.strerror or type(exc).__name__})",
        where="stdout",
    )


@contextmanager
def stdout_errors() -> Iterator[None]:
    """Run a block that prints; turn stdout write errors into a quiet exit or one line.

    Only wrap code whose writes all go to stdout: an ``OSError`` raised inside is taken
    to be a failed write to stdout.
    """
    import typer

    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        raise typer.Exit(EXIT_PIPE) from None
    except OSError as exc:
        raise stdout_failure(exc) from None
