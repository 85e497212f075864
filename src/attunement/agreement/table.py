"""Coder tables: who gave which code to which utterance (and session-level ratings).

A **coder table** (CSV, JSON Lines or Parquet) has one row per coder × utterance × code:

========================  =================================================================
``coder``                 who coded (optional when the table is given as ``NAME=FILE``)
``session``               the session (any stable name; matched to session JSON, see below)
``utterance_id``          the utterance (``u0001``…), **or** ``index`` (0-based position)
``code``                  a code id (``W_MINIMAL``, ``E_EXPLORATION``, ``behaviour``, or a
                          lab's own code)
``value``                 ``1``/``0`` for presence codes, a level (``none``/``weak``/
                          ``strong`` or 0/1/2) for empathy codes, a category for nominal
                          codes (``behaviour`` = ``reflection_simple`` …), a number for
                          ordinal codes. Empty = not coded
``role``, ``text``        optional; ``attune train`` needs both
========================  =================================================================

A missing row means *not coded*, never *absent*: write ``0`` rows for the utterances a
coder looked at and found no code on.

A **ratings table** (same file types) has ``coder, session, scale, value`` with a number
per session: the input of the ICC.

**Session JSON** from ``attune analyze`` is a coder too: each utterance of a code's role
gets the model's value (annotations from an analyzer, not from ``human``). A JSON file's
session is matched to a table's session name by its ``id``, its ``source`` without the
extension, or its own file name without ``.session.json``.
"""

from __future__ import annotations

import csv
import glob
import importlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attunement.errors import SchemaError, missing_extra
from attunement.safeparse import ParseProblem, json_lines, parse_json

#: a coder table larger than this is refused before it is read (a million rows ≈ 100 MB)
MAX_TABLE_BYTES = 512 << 20
TABLE_SUFFIXES = (".csv", ".jsonl", ".parquet")
_CODER_COLUMNS = frozenset({"coder", "session", "utterance_id", "index", "code", "value"})
_OPTIONAL = frozenset({"role", "text"})
_RATING_COLUMNS = frozenset({"coder", "session", "scale", "value"})


@dataclass(frozen=True)
class Coding:
    """One row of a coder table, validated (``unit``: utterance id, or ``#<index>``)."""

    coder: str
    session: str
    unit: str
    code: str
    value: str
    role: str | None = None
    text: str | None = None
    where: str = ""


@dataclass(frozen=True)
class Rating:
    coder: str
    session: str
    scale: str
    value: float


def is_coder_table(path: Path) -> bool:
    """True when ``path`` is a CSV/JSONL/Parquet file whose columns are a coder table's."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return False
    try:
        cols = _columns(path)
    except SchemaError:
        return False
    return {"code", "value", "session"} <= cols and bool({"utterance_id", "index"} & cols)


def _columns(path: Path) -> set[str]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        pq = _parquet()
        return {c.lower() for c in pq.read_schema(path).names}
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read ({exc.__class__.__name__})", where=path.name) from None
    if suffix == ".csv":
        return {c.strip().lower() for c in next(csv.reader([first]), [])}
    try:
        rec = parse_json(first) if first.strip() else {}
    except ParseProblem:
        return set()
    return {str(k).lower() for k in rec} if isinstance(rec, dict) else set()


def _parquet() -> Any:
    try:
        return importlib.import_module("pyarrow.parquet")
    except ImportError:  # pragma: no cover - depends on the environment
        raise missing_extra("pyarrow", "research") from None


def read_records(path: Path) -> Iterable[tuple[str, dict[str, str]]]:
    """(where, row) for every row of a CSV, JSONL or Parquet table; keys lower-cased,
    values as text ('' for empty)."""
    suffix = path.suffix.lower()
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SchemaError(f"cannot read ({exc.__class__.__name__})", where=name) from None
    if size > MAX_TABLE_BYTES:
        raise SchemaError(f"table is over the {MAX_TABLE_BYTES >> 20} MB limit", where=name)
    if suffix == ".parquet":
        table = _parquet().read_table(path)
        for n, rec in enumerate(table.to_pylist(), start=1):
            yield f"{name} row {n}", {str(k).lower(): _text(v) for k, v in rec.items()}
        return
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SchemaError(f"cannot read ({exc.__class__.__name__})", where=name) from None
    except UnicodeDecodeError:
        raise SchemaError("cannot read (not UTF-8 text)", where=name) from None
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [c.strip().lower() for c in next(reader, [])]
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                where = f"{name} line {reader.line_num}"
                if len(cells) != len(header):
                    raise SchemaError(
                        f"row has {len(cells)} cells but the header has {len(header)}",
                        where=where,
                    )
                yield where, dict(zip(header, cells, strict=True))
        except csv.Error:
            raise SchemaError("malformed CSV (unbalanced quotes)", where=name) from None
        return
    for _n, where, rec in json_lines(text, name):
        yield where, {str(k).lower(): _text(v) for k, v in rec.items()}


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _check_columns(cols: set[str], known: frozenset[str], where: str) -> None:
    unknown = sorted(cols - known)
    if unknown:
        raise SchemaError(
            f"{len(unknown)} unknown column(s) (known: {', '.join(sorted(known))})", where=where
        )


def read_coder_table(
    path: Path, coder: str | None = None, mapping: Mapping[str, str] | None = None
) -> list[Coding]:
    """Validated rows of a coder table. ``coder`` names the coder of every row (the table
    then needs no ``coder`` column); ``mapping`` turns a lab's code names into ours."""
    path = Path(path)
    mapping = mapping or {}
    out: list[Coding] = []
    kind: str | None = None
    for where, row in read_records(path):
        _check_columns(set(row), _CODER_COLUMNS | _OPTIONAL, path.name)
        who = coder or row.get("coder", "").strip()
        if not who:
            raise SchemaError("missing 'coder' (or give the file as NAME=FILE)", where=where)
        session = row.get("session", "").strip()
        if not session:
            raise SchemaError("missing 'session'", where=where)
        uid, idx = row.get("utterance_id", "").strip(), row.get("index", "").strip()
        if uid:
            unit, k = uid, "utterance_id"
        elif idx:
            if not idx.isdigit():
                raise SchemaError("'index' must be a whole number ≥ 0", where=where)
            unit, k = f"#{int(idx)}", "index"
        else:
            raise SchemaError("missing 'utterance_id' (or 'index')", where=where)
        if kind is not None and k != kind:
            raise SchemaError("use either 'utterance_id' or 'index', not both", where=where)
        kind = k
        raw = row.get("code", "").strip()
        if not raw:
            raise SchemaError("missing 'code'", where=where)
        value = row.get("value", "").strip()
        if not value:
            continue  # not coded
        out.append(
            Coding(
                coder=who,
                session=session,
                unit=unit,
                code=mapping.get(raw, raw),
                value=value,
                role=row.get("role", "").strip() or None,
                text=row.get("text") or None,
                where=where,
            )
        )
    if not out:
        raise SchemaError("no coded rows found", where=path.name)
    return out


def read_ratings(path: Path, coder: str | None = None) -> list[Rating]:
    """Validated rows of a session-level ratings table (``coder, session, scale, value``)."""
    path = Path(path)
    out: list[Rating] = []
    for where, row in read_records(path):
        _check_columns(set(row), _RATING_COLUMNS, path.name)
        who = coder or row.get("coder", "").strip()
        session, scale = row.get("session", "").strip(), row.get("scale", "").strip()
        if not who or not session or not scale:
            raise SchemaError("'coder', 'session' and 'scale' are required", where=where)
        value = row.get("value", "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            raise SchemaError("'value' must be a number", where=where) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise SchemaError("'value' must be a finite number", where=where)
        out.append(Rating(coder=who, session=session, scale=scale, value=number))
    if not out:
        raise SchemaError("no rated rows found", where=path.name)
    return out


def expand(spec: str) -> list[Path]:
    """A file, a folder (its ``*.json`` files) or a quoted glob pattern → sorted files."""
    p = Path(spec)
    if p.is_dir():
        files = sorted(p.glob("*.json"))
    elif any(ch in spec for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(spec))
    else:
        files = [p]
    if not files:
        raise SchemaError("no files match", where=p.name)
    for f in files:
        if not f.is_file():
            raise SchemaError("no such file", where=f.name)
    return files


def training_records(rows: list[Coding], name: str) -> list[tuple[str, dict[str, Any]]]:
    """(where, record) per utterance of a one-coder table, in the JSONL training shape
    (``role, text, group, id, codes, empathy, behaviour``): ``codes`` lists the presence
    codes with value 1, in order of appearance (by ``index`` within a session if given)."""
    from attunement.model import default_codebook

    empathy = set(default_codebook().ids("empathy"))
    if len({r.coder for r in rows}) > 1:
        raise SchemaError("table holds several coders; train on one coder's rows", where=name)
    units: dict[tuple[str, str], dict[str, Any]] = {}
    where: dict[tuple[str, str], str] = {}
    for r in rows:
        key = (r.session, r.unit)
        rec = units.setdefault(key, {"group": r.session})
        where.setdefault(key, r.where)
        if r.role is None or r.text is None:
            raise SchemaError("training needs the 'role' and 'text' columns", where=r.where)
        rec.update(role=r.role, text=r.text, id=f"{r.session}:{r.unit.lstrip('#')}")
        value = r.value.strip().lower()
        if r.code in empathy:
            rec.setdefault("empathy", {})[r.code] = value
        elif r.code in ("behaviour", "behavior"):
            rec["behaviour"] = r.value.strip()
        elif value in ("0", "1", "yes", "no", "true", "false"):
            codes = rec.setdefault("codes", [])
            if value in ("1", "yes", "true"):
                codes.append(r.code)
        else:
            raise SchemaError("a presence code's value must be 1 or 0", where=r.where)
    order = list(units)
    if all(u.startswith("#") for _, u in order):
        first: dict[str, int] = {}
        for i, (s, _) in enumerate(order):
            first.setdefault(s, i)
        order.sort(key=lambda k: (first[k[0]], int(k[1][1:])))
    return [(where[k], units[k]) for k in order]
