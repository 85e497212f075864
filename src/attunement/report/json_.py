"""The session JSON writer: the project's versioned schema ``attunement.session/1``.

The output *is* the :class:`~attunement.model.Session` model dumped by pydantic, so it
round-trips losslessly (``Session.model_validate_json``). Field meanings and the
versioning promise are in ``docs/json-output.md``.
"""

from __future__ import annotations

from typing import ClassVar

from attunement.model import Session
from attunement.report.base import Writer


class JsonWriter(Writer):
    """``pretty`` (indented, for people and diffs) or compact (one line, for JSON Lines)."""

    name: ClassVar[str] = "json"
    suffix: ClassVar[str] = ".session.json"

    def __init__(self, pretty: bool = True) -> None:
        self.pretty = pretty

    def render(self, session: Session) -> str:
        return session.model_dump_json(indent=2 if self.pretty else None) + "\n"
