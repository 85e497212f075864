"""Bounds every session obeys, whoever built it, and safe messages when one does not.

The readers already refuse absurd times, but a stored session JSON, a client folder's
``.session.json`` or a library caller builds a :class:`~attunement.model.Session`
directly. Validating at the model means every entry point gets the same limits: times
are finite and within a week, an utterance's ``index`` is its position, ids are unique,
every utterance's speaker is listed, session numbers and identifiers are of sane size.
These bounds keep the reports' loops (axis ticks, per-session charts) bounded too.

Errors are pydantic :class:`~pydantic.ValidationError` s whose location is the field path
(``utterances.3.start``) and whose message never contains the offending value (session
content is protected health information); the readers turn them into the project's own
errors with :func:`attunement.safeparse.validation_problem`.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

#: longest session we believe: a week, in seconds (the readers' ``io.times.MAX_SECONDS``)
MAX_SECONDS = 7 * 24 * 3600.0
#: highest session number a client course may have (weekly for two centuries)
MAX_SESSION_NUMBER = 10_000
#: most turns one session may have: a three-hour session has about 2,000, a long chat
#: log a few thousand; beyond this a file is several sessions (or not a transcript), and
#: analysis memory (about 10 kB per turn) would grow without bound
MAX_UTTERANCES = 50_000
#: identifiers: session, utterance, episode ids and annotation codes / sources
MAX_ID_CHARS = 256
#: speaker labels as written ('Dr. Lee'); the text readers allow 40 characters
MAX_SPEAKER_CHARS = 200


def problem(loc: tuple[str | int, ...], message: str) -> ValidationError:
    """A validation error at field path ``loc`` (``("utterances", 3, "index")``).

    Raised from a model validator: pydantic passes a :class:`ValidationError` through
    unchanged, so the error names the field, not just the model. The input is recorded
    as ``None`` so that not even ``str(error)`` echoes a value.
    """
    detail = InitErrorDetails(
        type=PydanticCustomError("session_consistency", message), loc=loc, input=None
    )
    return ValidationError.from_exception_data("Session", [detail])
