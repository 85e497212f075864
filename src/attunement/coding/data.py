"""Reading coded utterances for training and evaluation.

Two input shapes:

* **JSONL** in the project corpus format: one object per line with ``role``, ``text`` and
  any of ``codes`` (list of binary codes; ``[]`` = coded, none apply), ``empathy``
  (code → ``none``/``weak``/``strong`` or 0/1/2), ``behaviour``; optional ``id``, ``group``
  (session), ``context`` (``[{role, text}]``, oldest first). Without ``context`` the
  previous records of the same group are used.
* **Session corpus** (``.txt`` files in the format of :mod:`attunement.coding.corpus_format`,
  the project's corpus v2): whole sessions, every turn coded; a turn's context is the
  turns before it in its session and its group is the session id.
* **Coder table** (CSV, JSONL or Parquet with columns ``coder, session, utterance_id``
  (or ``index``)``, code, value, role, text``; one coder; the format ``attune agree``
  reads, :mod:`attunement.agreement.table`): rows are grouped into utterances, which
  become records as above (``codes`` = the presence codes with value 1, empathy levels,
  ``behaviour``) in order of appearance (by ``index`` within a session when given).
* **CSV**, a coded transcript: columns ``role`` (or ``speaker`` holding roles), ``text``,
  ``codes`` (separated by ``;``, ``|`` or ``,``), optional ``session``/``session_id``/
  ``group``, empathy columns named by their code, ``behaviour``. Rows are in session
  order; context is the previous rows of the same session.

A lab's own code names are mapped or declared with a codebook map (TOML)::

    [map]                 # their name = our code id
    "WITHDRAW-MIN" = "W_MINIMAL"
    [codes]               # their own binary codes = the role they apply to
    CHANGE_TALK = "client"

Errors name the file and line, never the utterance text.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from attunement.coding.corpus_format import CorpusFormatError, CorpusSession, parse_text
from attunement.coding.features import Item
from attunement.errors import SchemaError, safe_ident
from attunement.model import default_codebook
from attunement.safeparse import json_lines, load_toml, validate

CONTEXT_TURNS = 3
LEVELS = ("none", "weak", "strong")
_ROLE_ALIASES = {
    "therapist": "therapist",
    "t": "therapist",
    "counselor": "therapist",
    "counsellor": "therapist",
    "th": "therapist",
    "clinician": "therapist",
    "client": "client",
    "c": "client",
    "patient": "client",
    "cl": "client",
}
_CSV_COLUMNS = (
    "role speaker text codes session session_id group transcript_id behaviour behavior id "
    "utterance_id start end timestamp line annotator annotator_id setting"
)
_CSV_KNOWN = frozenset(_CSV_COLUMNS.split())
_SESSION_COLS = ("session", "session_id", "group", "transcript_id")


class CodebookMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    map: dict[str, str] = {}
    codes: dict[str, Literal["client", "therapist"]] = {}


@dataclass
class Example:
    """One coded utterance. ``codes`` None means the binary codes were not coded."""

    id: str
    group: str
    item: Item
    codes: set[str] | None
    empathy: dict[str, str]
    behaviour: str | None
    where: str


@dataclass
class Resolver:
    """Turns a lab's code names into model code ids and knows each code's role."""

    mapping: dict[str, str]
    roles: dict[str, str]
    empathy: frozenset[str]
    behaviours: frozenset[str]

    def code(self, raw: str, where: str) -> str:
        code = self.mapping.get(raw, raw)
        if code not in self.roles:
            raise SchemaError(
                f"unknown code {safe_ident(code)}; map or declare it with --codebook", where=where
            )
        return code


def load_codebook_map(path: Path | None) -> Resolver:
    cb = default_codebook()
    roles = {
        c.id: c.role
        for c in cb.code
        if c.family in ("withdrawal", "confrontation", "client_flag", "resolution", "failure")
    }
    mapping: dict[str, str] = {}
    if path is not None:
        where = Path(path).name
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SchemaError(f"cannot read codebook map ({exc.strerror})", where=where) from None
        cm: CodebookMap = validate(CodebookMap, load_toml(data, where), where)
        roles.update(cm.codes)
        mapping = dict(cm.map)
    return Resolver(
        mapping=mapping,
        roles=roles,
        empathy=frozenset(cb.ids("empathy")),
        behaviours=frozenset(cb.ids("behaviour")),
    )


def _role(value: object, where: str) -> str:
    role = _ROLE_ALIASES.get(str(value).strip().lower())
    if role is None:
        raise SchemaError("role must be 'therapist' or 'client'", where=where)
    return role


def _level(value: object, where: str) -> str:
    v = str(value).strip().lower()
    if v in ("0", "1", "2"):
        return LEVELS[int(v)]
    if v == "":
        return "none"
    if v not in LEVELS:
        raise SchemaError("empathy level must be none/weak/strong or 0/1/2", where=where)
    return v


def _split_codes(value: str) -> list[str]:
    for sep in (";", "|"):
        value = value.replace(sep, ",")
    return [c.strip() for c in value.split(",") if c.strip()]


def read_examples(path: Path, resolver: Resolver | None = None) -> list[Example]:
    """Read a JSONL, CSV or session-corpus file, or every such file in a folder."""
    resolver = resolver or load_codebook_map(None)
    path = Path(path)
    if path.is_dir():
        files = _data_files(path)
        if not files:
            raise SchemaError("folder holds no .jsonl, .csv or .txt files", where=str(path))
    elif path.is_file():
        files = [path]
    else:
        raise SchemaError("no such file or folder", where=str(path))
    out: list[Example] = []
    for f in files:
        suffix = f.suffix.lower()
        if suffix == ".parquet" or (suffix in (".csv", ".jsonl") and _is_coder_table(f)):
            out.extend(_read_coder_table(f, resolver))
        elif suffix == ".txt":
            out.extend(_read_sessions(f))
        elif suffix == ".csv":
            out.extend(_read_csv(f, resolver))
        else:
            out.extend(_read_jsonl(f, resolver))
    if not out:
        raise SchemaError("no coded utterances found", where=str(path))
    return out


def data_hash(path: Path) -> str:
    """sha256 over the bytes of the file(s) read, so a card names its exact data."""
    path = Path(path)
    files = _data_files(path) if path.is_dir() else [path]
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _data_files(folder: Path) -> list[Path]:
    return sorted(f for ext in ("jsonl", "csv", "txt", "parquet") for f in folder.glob(f"*.{ext}"))


def examples_from_sessions(sessions: Sequence[CorpusSession]) -> list[Example]:
    """Every turn of every corpus session as an :class:`Example` with its context."""
    out: list[Example] = []
    for s in sessions:
        history: list[tuple[str, str]] = []
        for i, t in enumerate(s.turns):
            item = Item(role=t.role, text=t.text, context=_context_from(history))
            out.append(
                Example(
                    id=f"{s.id}:{i + 1}",
                    group=s.id,
                    item=item,
                    codes=set(t.codes),
                    empathy=dict(t.empathy),
                    behaviour=t.behaviour,
                    where=f"{s.source} line {t.line}",
                )
            )
            history.append((t.role, t.text))
    return out


def _read_sessions(path: Path) -> list[Example]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read ({exc.__class__.__name__})", where=path.name) from None
    try:
        sessions = parse_text(text, path.name)
    except CorpusFormatError as exc:
        raise SchemaError(str(exc)) from None
    return examples_from_sessions(sessions)


def _context_from(history: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(history[-CONTEXT_TURNS:])


def _read_jsonl(path: Path, res: Resolver) -> list[Example]:
    out: list[Example] = []
    history: dict[str, list[tuple[str, str]]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"cannot read ({exc.__class__.__name__})", where=str(path)) from None
    for n, where, rec in json_lines(text, path.name):
        out.append(_from_record(rec, res, where, history, default_id=f"{path.stem}:{n}"))
    return out


def _from_record(
    rec: dict[str, Any],
    res: Resolver,
    where: str,
    history: dict[str, list[tuple[str, str]]],
    default_id: str,
) -> Example:
    if not isinstance(rec.get("text"), str):
        raise SchemaError("missing or non-text field 'text'", where=where)
    if "role" not in rec:
        raise SchemaError("missing field 'role'", where=where)
    role = _role(rec["role"], where)
    group = str(rec.get("group", "_"))
    ctx_raw = rec.get("context")
    if ctx_raw is None:
        context = _context_from(history.get(group, []))
    else:
        if not isinstance(ctx_raw, list) or not all(
            isinstance(c, dict) and isinstance(c.get("text"), str) for c in ctx_raw
        ):
            raise SchemaError("'context' must be a list of {role, text}", where=where)
        context = [(_role(c.get("role"), where), c["text"]) for c in ctx_raw]
    history.setdefault(group, []).append((role, rec["text"]))
    codes: set[str] | None = None
    if "codes" in rec:
        if not isinstance(rec["codes"], list):
            raise SchemaError("'codes' must be a list", where=where)
        codes = {res.code(str(c), where) for c in rec["codes"]}
    empathy: dict[str, str] = {}
    emp = rec.get("empathy") or {}
    if not isinstance(emp, dict):
        raise SchemaError("'empathy' must be an object", where=where)
    for k, v in emp.items():
        code = res.mapping.get(str(k), str(k))
        if code not in res.empathy:
            raise SchemaError(f"unknown empathy code {safe_ident(code)}", where=where)
        empathy[code] = _level(v, where)
    behaviour = rec.get("behaviour")
    if behaviour is not None:
        behaviour = res.mapping.get(str(behaviour), str(behaviour))
        if behaviour not in res.behaviours:
            raise SchemaError(f"unknown behaviour {safe_ident(behaviour)}", where=where)
    return Example(
        id=str(rec.get("id", default_id)),
        group=group,
        item=Item(role=role, text=rec["text"], context=context),
        codes=codes,
        empathy=empathy,
        behaviour=behaviour,
        where=where,
    )


def _csv_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (first line, cells) rows; every row must have the header's cell count.

    An unquoted comma in the text shifts words into the next column, so a row with more
    cells than the header, or fewer, is refused with its line number rather than read as
    something else. Cells are never quoted.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SchemaError(f"cannot read CSV ({exc.__class__.__name__})", where=path.name) from None
    except UnicodeDecodeError:
        raise SchemaError("cannot read CSV (not UTF-8 text)", where=path.name) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for cells in reader:
            line, last = last + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                raise SchemaError(
                    f"row has {len(cells)} cells but the header has {len(header)} "
                    "(quote text that contains commas)",
                    where=f"{path.name} line {line}",
                )
            rows.append((line, cells[: len(header)]))
    except csv.Error as exc:
        # the csv module's message names what is wrong, never the cell
        why = (
            f"a cell is longer than {csv.field_size_limit()} characters"
            if "field limit" in str(exc)
            else "unbalanced quotes"
        )
        raise SchemaError(f"malformed CSV ({why})", where=f"{path.name} line {last + 1}") from None
    return header or [], rows


def _read_csv(path: Path, res: Resolver) -> list[Example]:
    header, table = _csv_table(path)
    if not table:
        raise SchemaError("CSV has no rows", where=path.name)
    cols = {c: c.strip().lower() for c in header}
    empathy_cols = {
        c: res.mapping.get(c.strip(), c.strip())
        for c in cols
        if res.mapping.get(c.strip(), c.strip()) in res.empathy
    }
    unknown = [
        str(i)
        for i, (c, low) in enumerate(cols.items(), start=1)
        if low not in _CSV_KNOWN and c not in empathy_cols
    ]
    if unknown:
        # header cells are not quoted: a file without a header row has text there
        raise SchemaError(
            f"unknown column(s) at position {', '.join(unknown)} of the header "
            f"(known: {', '.join(sorted(_CSV_KNOWN))} and empathy codes)",
            where=path.name,
        )
    if len(cols) != len(header):
        raise SchemaError("the header names a column twice", where=path.name)
    by_low = {low: c for c, low in cols.items()}
    if "text" not in by_low or not ({"role", "speaker"} & set(by_low)):
        raise SchemaError("CSV needs columns 'text' and 'role' (or 'speaker')", where=path.name)
    role_col = by_low.get("role", by_low.get("speaker", ""))
    sess_col = next((by_low[s] for s in _SESSION_COLS if s in by_low), None)
    beh_col = by_low.get("behaviour", by_low.get("behavior"))
    history: dict[str, list[tuple[str, str]]] = {}
    out: list[Example] = []
    for line, cells in table:
        row = dict(zip(header, cells, strict=True))
        rec: dict[str, Any] = {"role": row.get(role_col, ""), "text": row.get(by_low["text"]) or ""}
        if sess_col:
            rec["group"] = row.get(sess_col) or "_"
        if "id" in by_low and row.get(by_low["id"]):
            rec["id"] = row[by_low["id"]]
        if "codes" in by_low:
            rec["codes"] = _split_codes(row.get(by_low["codes"]) or "")
        emp = {code: row[c] for c, code in empathy_cols.items() if (row.get(c) or "").strip()}
        if emp:
            rec["empathy"] = emp
        if beh_col and (row.get(beh_col) or "").strip():
            rec["behaviour"] = row[beh_col].strip()
        where = f"{path.name} line {line}"
        out.append(_from_record(rec, res, where, history, default_id=f"{path.stem}:{line}"))
    return out


def _is_coder_table(path: Path) -> bool:
    from attunement.agreement.table import is_coder_table

    return is_coder_table(path)


def _read_coder_table(path: Path, res: Resolver) -> list[Example]:
    """A one-coder table (``attune agree``'s format) as records of the JSONL shape."""
    from attunement.agreement.table import read_coder_table, training_records

    history: dict[str, list[tuple[str, str]]] = {}
    records = training_records(read_coder_table(path, mapping=res.mapping), path.name)
    return [_from_record(r, res, w, history, default_id=str(r["id"])) for w, r in records]
