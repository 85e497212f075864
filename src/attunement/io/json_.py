"""JSON: the project's own session schema, or a simple list of utterances.

The session schema (``"schema_version": "attunement.session/1"``) is read untouched so
that ``read(write(s)) == s``. The simple forms are for hand-made or converted data::

    {"utterances": [{"speaker": "T", "text": "Hi.", "start": 0.0}, ...]}
    [{"speaker": "T", "text": "Hi."}, ...]
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import ValidationError

from attunement.io.base import Parsed, Reader, ReadOptions, Source
from attunement.io.records import make_turn, plan_columns
from attunement.model import SCHEMA_VERSION, Session
from attunement.safeparse import ParseProblem, parse_json, validation_problem

#: schema versions are quoted in errors only when they look like one
_VERSION = re.compile(r"^attunement\.session/\d{1,4}$")


class JsonReader(Reader):
    name: ClassVar[str] = "json"
    extensions: ClassVar[tuple[str, ...]] = ("json",)

    def sniff(self, source: Source) -> float:
        text = source.try_text()
        if text is None:
            return 0.0
        head = text[:4096].lstrip()
        if head.startswith("{"):
            keys = ('"schema_version"', '"utterances"')
            return 1.0 if any(k in head for k in keys) else 0.6
        if head.startswith("["):
            rest = head[1:].lstrip()
            return 0.8 if rest.startswith(("{", "]")) else 0.0
        return 0.0

    def read(self, source: Source, options: ReadOptions) -> Parsed:
        try:
            data = parse_json(source.text)
        except ParseProblem as problem:
            raise source.error(problem.describe(), line=problem.line) from None
        if isinstance(data, dict) and "schema_version" in data:
            return Parsed(session=_session(data, source))
        records = data.get("utterances") if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise source.error(
                "JSON is neither an attunement session nor a list of utterances "
                "(expected 'schema_version' or 'utterances')"
            )
        return _simple(records, source, options)


def _session(data: dict[str, Any], source: Source) -> Session:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        shown = f" {version!r}" if isinstance(version, str) and _VERSION.match(version) else ""
        raise source.error(
            f"unsupported session schema version{shown} (this version reads {SCHEMA_VERSION!r})"
        )
    try:
        return Session.model_validate(data)
    except ValidationError as exc:
        raise source.error(f"not a valid session ({validation_problem(exc, Session)})") from None


def _simple(records: list[Any], source: Source, options: ReadOptions) -> Parsed:
    parsed = Parsed()
    # JSON has no lines worth citing; the record number is what a user can find.
    source.line_unit = "utterance"
    keys: dict[str, None] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise source.error("utterance is not an object", line=number)
        keys.update(dict.fromkeys(str(k) for k in record))
    plan = plan_columns(list(keys), options.columns, source)
    for number, record in enumerate(records, start=1):
        values = {str(k): _as_cell(v) for k, v in record.items()}
        turn = make_turn(values, plan, parsed.turns[-1] if parsed.turns else None, source, number)
        if turn is not None:
            turn.line = None
            parsed.turns.append(turn)
    if not parsed.turns:
        raise source.error("JSON holds no utterances with text")
    return parsed


def _as_cell(value: Any) -> str:
    """Record value as a cell string (lists of codes joined like a CSV cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ";".join(_as_cell(v) for v in value)
    if isinstance(value, dict):
        return ""
    return str(value)
