"""The project's own exception types.

Anything a user can cause (a bad file, a malformed instrument, an unknown code) raises a
subclass of :class:`AttunementError`. Its message says *what* went wrong and *where*
(file, line, record) and never quotes session content, so it is safe to print and log.
The CLI turns these into one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import re


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


def without_file(where: str | None, path: os.PathLike[str] | str) -> str:
    """'x.vtt, line 3' → 'line 3': for an error line that already starts with the path."""
    if not where:
        return ""
    for name in (str(path), os.path.basename(path)):
        if where == name:
            return ""
        if where.startswith(name + ", "):
            return where[len(name) + 2 :]
    return where


def missing_extra(package: str, extra: str) -> DependencyError:
    """Build the error raised when an optional heavy dependency is not installed."""
    return DependencyError(f"this feature needs {package}: pip install 'attunement[{extra}]'")


#: what an input value must look like to be quoted in an error: a code-style identifier
#: (upper case, digits, ``_``/``-``; at most 40 characters), e.g. ``W_MINIMAL``
IDENTIFIER_PATTERN = r"^[A-Z][A-Z0-9_-]{0,39}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
NOT_SHOWN = "(value not shown)"


def is_identifier(value: object) -> bool:
    """True when ``value`` is a code-style identifier that is safe to quote in an error."""
    return isinstance(value, str) and _IDENTIFIER.fullmatch(value) is not None


def safe_ident(value: object) -> str:
    """``value`` quoted when it is a code-style identifier, else a neutral placeholder.

    The one rule for quoting input in errors: a value read from a file may appear in a
    message only when it matches :data:`IDENTIFIER_PATTERN` (codes are written like that;
    sentences, names and numbers are not). Anything else, free text that may be session
    content included, becomes :data:`NOT_SHOWN`; the message names the file, line and
    column instead.
    """
    return repr(value) if is_identifier(value) else NOT_SHOWN
