"""Parsing untrusted JSON and TOML: the project's own error, never a crash, never content.

Every file a user hands over (session JSON, ``responses.json``, ``client.toml``, a
codebook map, training JSONL, an instrument) is parsed here. What can go wrong with a
hostile or careless file, and what it becomes:

* syntax errors (:class:`json.JSONDecodeError`, :class:`tomllib.TOMLDecodeError`) →
  "not valid JSON/TOML" with line and column, without the parser's message when that
  message quotes the input (TOML's does: keys, characters);
* integers longer than Python's conversion limit (``ValueError``, 4,300 digits) →
  "a number has too many digits";
* deep nesting → "nested more than :data:`MAX_DEPTH` levels deep": the parsers' own
  ``RecursionError`` is caught, and the parsed data is measured (iteratively) before
  anything validates or walks it, so no validator recurses deeply;
* bytes that are not UTF-8 → "not UTF-8 text"; a lone surrogate escape in JSON
  (``"\\ud800"``, a cut emoji) becomes U+FFFD, as undecodable bytes do elsewhere.

:func:`validation_problem` turns a pydantic :class:`~pydantic.ValidationError` into a
"field a.b.0: msg" text that names only the model's own field names and list positions:
an unknown or free-form key in the input is never echoed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Sequence
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from attunement.errors import AttunementError, SchemaError

#: deepest nesting of arrays/objects accepted in an input file (the project's own
#: formats need fewer than ten levels)
MAX_DEPTH = 64

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
#: pydantic error types whose message is written by a validator (and might quote input)
_QUOTING_TYPES = frozenset({"value_error", "assertion_error"})


class ParseProblem(Exception):
    """Why untrusted text could not be parsed; ``message`` quotes nothing from it."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def describe(self) -> str:
        """The message with the column (the line is left to the caller's ``where``)."""
        return f"{self.message} (column {self.column})" if self.column else self.message


def value_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of parsed data (iterative; stops counting past ``limit``)."""
    if not isinstance(value, dict | list):
        return 0
    level: list[Any] = [value]
    depth = 0
    while level and depth <= limit:
        depth += 1
        nxt: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            nxt.extend(c for c in children if isinstance(c, dict | list))
        level = nxt
    return depth


def _too_deep() -> ParseProblem:
    return ParseProblem(f"nested more than {MAX_DEPTH} levels deep")


def _text(data: str | bytes) -> str:
    """Bytes decoded as UTF-8 (a BOM is dropped); ``ParseProblem`` when they are not."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ParseProblem("not UTF-8 text") from None


def parse_json(data: str | bytes) -> Any:
    """Parse untrusted JSON text; raises :class:`ParseProblem` (never quotes content)."""
    data = _text(data)
    try:
        value = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ParseProblem(f"not valid JSON ({exc.msg})", exc.lineno, exc.colno) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # an integer over sys.get_int_max_str_digits() digits
        raise ParseProblem("not valid JSON (a number has too many digits)") from None
    if value_depth(value) > MAX_DEPTH:
        raise _too_deep()
    if _SURROGATE_ESCAPE.search(data):
        value = _without_lone_surrogates(value)
    return value


def json_lines(text: str, name: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(line number, "NAME line N", object) for every non-blank line of a JSON-lines text;
    a line that is not a JSON object is a SchemaError naming its line (never its text)."""
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name} line {n}"
        try:
            rec = parse_json(line)
        except ParseProblem as problem:
            raise SchemaError(problem.describe(), where=where) from None
        if not isinstance(rec, dict):
            raise SchemaError("each line must be a JSON object", where=where)
        yield n, where, rec


def _without_lone_surrogates(value: Any) -> Any:
    """Lone ``\\udXXX`` escapes (a cut emoji) → U+FFFD, in keys and strings: such text
    cannot be written as UTF-8 later. Pairs were already joined by the parser. Depth is
    bounded by :data:`MAX_DEPTH` before this runs."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def parse_toml(data: str | bytes) -> dict[str, Any]:
    """Parse untrusted TOML text; raises :class:`ParseProblem` (never quotes content)."""
    data = _text(data)
    try:
        raw = tomllib.loads(data)
    except tomllib.TOMLDecodeError as exc:
        # the parser's message may quote keys or characters: keep only the position
        m = _TOML_AT.search(str(exc))
        line, column = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        raise ParseProblem("not valid TOML", line, column) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # an integer over sys.get_int_max_str_digits() digits
        raise ParseProblem("not valid TOML (a number has too many digits)") from None
    if value_depth(raw) > MAX_DEPTH:
        raise _too_deep()
    return raw


def _raise(
    problem: ParseProblem, where: str, error: type[AttunementError], unit: str
) -> AttunementError:
    place = f"{where}, {unit} {problem.line}" if problem.line is not None else where
    return error(problem.describe(), where=place)


def load_json(
    data: str | bytes,
    where: str,
    error: type[AttunementError] = SchemaError,
    unit: str = "line",
) -> Any:
    """:func:`parse_json`, raising ``error`` whose ``where`` is ``"<where>, line N"``."""
    try:
        return parse_json(data)
    except ParseProblem as problem:
        raise _raise(problem, where, error, unit) from None


def load_toml(
    data: str | bytes, where: str, error: type[AttunementError] = SchemaError
) -> dict[str, Any]:
    """:func:`parse_toml`, raising ``error`` whose ``where`` is ``"<where>, line N"``."""
    try:
        return parse_toml(data)
    except ParseProblem as problem:
        raise _raise(problem, where, error, "line") from None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``list[X]``, ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def safe_loc(loc: Sequence[int | str], model: type[BaseModel] | None) -> str:
    """``a.b.0`` for a pydantic error location: the model's own field names and list
    positions are shown; any other part (an unknown key, a dict key from the input)
    becomes ``?`` and ends the walk."""
    parts: list[str] = []
    current = model
    for part in loc:
        if isinstance(part, int):
            parts.append(str(part))
        elif current is not None and part in current.model_fields:
            parts.append(part)
            current = _model_in(current.model_fields[part].annotation)
        else:
            parts.append("?")
            break
    return ".".join(parts)


def validation_problem(exc: ValidationError, model: type[BaseModel] | None) -> str:
    """``field a.b: message`` for the first error; nothing quoted from the input."""
    first = exc.errors(include_input=False, include_url=False)[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        loc = safe_loc(first["loc"][:-1], model)
        return f"unknown field in {loc or '(top level)'}"
    loc = safe_loc(first["loc"], model) or "(top level)"
    msg = first["msg"]
    if kind == "union_tag_invalid" or (
        kind in _QUOTING_TYPES and (any(q in msg for q in "'\"") or len(msg) > 160)
    ):
        msg = "invalid value"  # a validator's message that may quote the input
    more = exc.error_count() - 1
    extra = f" (and {more} more problem(s))" if more else ""
    return f"field {loc}: {msg}{extra}"


def validate(
    model: type[BaseModel],
    raw: Any,
    where: str,
    error: type[AttunementError] = SchemaError,
    prefix: str = "",
) -> Any:
    """``model.model_validate(raw)`` with the error turned into ``error`` (no content)."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{prefix}{validation_problem(exc, model)}", where=where) from None
    except RecursionError:
        raise error(_too_deep().message, where=where) from None
