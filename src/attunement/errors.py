"""The project's own exception types.

Anything a user can cause (a bad file, a malformed instrument, an unknown code) raises a
subclass of :class:`AttunementError`. Its message says *what* went wrong and *where*
(file, line, record) and never quotes session content, so it is safe to print and log.
The CLI turns these into one line on stderr and exit code 2.
"""

from __future__ import annotations


class AttunementError(Exception):
    """Base class for errors the user can cause and fix."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class TranscriptError(AttunementError):
    """A transcript could not be read or normalized (format, encoding, speakers, size)."""


class SchemaError(AttunementError):
    """A data file (session JSON, codebook, instrument, model card) fails validation."""


class ModelError(AttunementError):
    """A coding model is missing, incompatible or cannot be trained on the given data."""


class MeasureError(AttunementError):
    """Questionnaire responses or client records are impossible or inconsistent."""


class DependencyError(AttunementError):
    """An optional extra is needed; the message names the ``pip install`` to run."""


def missing_extra(package: str, extra: str) -> DependencyError:
    """Build the error raised when an optional heavy dependency is not installed."""
    return DependencyError(f"this feature needs {package}: pip install 'attunement[{extra}]'")
