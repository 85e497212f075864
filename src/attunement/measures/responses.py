"""Reading questionnaire responses: ``responses.csv`` or ``responses.json``.

Long format (one answer per row) — columns ``session, date, instrument, item, value`` —
or wide format (one administration per row) — ``session, date, instrument`` and one column
per item id. JSON is a list of long-format records (or ``{"responses": [...]}``).

Everything is validated before anything is computed: an unknown instrument or item, an
impossible value, a malformed date, two answers to one item, one session number with two
dates, or dates that go backwards as session numbers go up raise
:class:`~attunement.errors.MeasureError` naming the file and row — never the answer text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from attunement.errors import MeasureError
from attunement.measures.instruments import Instrument
from attunement.measures.scoring import item_value
from attunement.safeparse import load_json

LONG_COLUMNS = ("session", "date", "instrument", "item", "value")


class Administration(BaseModel):
    """One instrument filled in at one session."""

    model_config = ConfigDict(extra="forbid")

    session: int = Field(ge=0)
    date: dt.date | None = None
    instrument: str
    answers: dict[str, float] = Field(default_factory=dict, description="Blank items are absent.")
    texts: dict[str, str] = Field(default_factory=dict)

    def as_answers(self) -> dict[str, float | str | None]:
        out: dict[str, float | str | None] = dict(self.answers)
        out.update(self.texts)
        return out


def _blank(v: object) -> bool:
    return (
        v is None
        or (isinstance(v, str) and not v.strip())
        or (isinstance(v, float) and math.isnan(v))
    )


def _records_from_csv(text: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    start = [1]  # first line of the row being read
    try:
        return _csv_rows(reader, where, start)
    except csv.Error as exc:
        # the csv module's message names no content, only what is wrong
        why = "a cell is too long" if "field limit" in str(exc) else "unbalanced quotes"
        raise MeasureError(f"malformed CSV ({why})", where=f"{where}, line {start[0]}") from None


def _csv_rows(
    reader: csv.DictReader[str], where: str, start: list[int]
) -> list[tuple[str, dict[str, Any]]]:
    cols = [c.strip() for c in reader.fieldnames or []]
    if not {"session", "instrument"} <= set(cols):
        raise MeasureError("needs columns 'session' and 'instrument'", where=where)
    wide = "item" not in cols
    out: list[tuple[str, dict[str, Any]]] = []
    start[0] = reader.line_num + 1
    for n, row in enumerate(reader, start=2):
        start[0] = reader.line_num + 1
        row = {(k or "").strip(): v for k, v in row.items()}
        if None in row or "" in row:
            raise MeasureError("row has more fields than the header", where=f"{where}, row {n}")
        rec_where = f"{where}, row {n}"
        base = {k: row.get(k) for k in ("session", "date", "instrument")}
        if wide:
            for col in cols:
                if col not in ("session", "date", "instrument"):
                    out.append((rec_where, {**base, "item": col, "value": row.get(col)}))
        else:
            out.append((rec_where, {**base, "item": row.get("item"), "value": row.get("value")}))
    return out


def _records_from_json(text: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    data = load_json(text, where, MeasureError)
    if isinstance(data, dict):
        data = data.get("responses")
    if not isinstance(data, list):
        raise MeasureError("expected a list of records or {'responses': [...]}", where=where)
    out = []
    for n, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise MeasureError("record is not an object", where=f"{where}, record {n}")
        out.append((f"{where}, record {n}", rec))
    return out


def read_responses(path: Path, instruments: Mapping[str, Instrument]) -> list[Administration]:
    """Read and validate a responses file; administrations sorted by session."""
    where = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MeasureError(f"cannot read responses ({type(exc).__name__})", where=where) from None
    if path.suffix.lower() == ".json":
        records = _records_from_json(text, where)
    else:
        records = _records_from_csv(text, where)
    return build_administrations(records, instruments)


def build_administrations(
    records: Iterable[tuple[str, Mapping[str, Any]]], instruments: Mapping[str, Instrument]
) -> list[Administration]:
    """Validate (where, record) pairs and group them into administrations."""
    admins: dict[tuple[int, str], Administration] = {}
    session_dates: dict[int, tuple[dt.date | None, str]] = {}
    seen: set[tuple[int, str, str]] = set()
    for where, rec in records:
        session = _int(rec.get("session"), "session", where)
        date = _date(rec.get("date"), where)
        inst_id = str(rec.get("instrument") or "").strip()
        inst = instruments.get(inst_id)
        if inst is None:
            # the cell is not quoted: it may hold anything (a shifted answer, a name)
            known = ", ".join(sorted(instruments))
            raise MeasureError(f"unknown instrument (known: {known})", where=where)
        item_id = str(rec.get("item") or "").strip()
        try:
            item = inst.item(item_id)
        except KeyError:
            raise MeasureError(f"unknown item for instrument {inst_id}", where=where) from None
        if session in session_dates:
            prev, prev_where = session_dates[session]
            if date is not None and prev is not None and date != prev:
                raise MeasureError(
                    f"session {session} has two dates ({prev_where} says {prev})", where=where
                )
            if prev is None and date is not None:
                session_dates[session] = (date, where)
        else:
            session_dates[session] = (date, where)
        adm = admins.setdefault(
            (session, inst_id), Administration(session=session, date=date, instrument=inst_id)
        )
        if adm.date is None:
            adm.date = date
        key = (session, inst_id, item_id)
        if key in seen:
            raise MeasureError(
                f"duplicate answer to {inst_id}.{item_id} in session {session}", where=where
            )
        seen.add(key)
        value = rec.get("value")
        if item.type == "text":
            if not _blank(value):
                adm.texts[item_id] = str(value)
            continue
        if _blank(value):
            continue  # a blank answer is simply absent; scoring counts it as missing
        try:
            number = float(str(value).strip())
        except (TypeError, ValueError):
            raise MeasureError(
                f"value for {inst_id}.{item_id} is not a number", where=where
            ) from None
        try:
            item_value(inst, item, number)
        except MeasureError as exc:
            raise MeasureError(exc.message, where=where) from None
        adm.answers[item_id] = number
    _check_date_order(session_dates)
    return sorted(admins.values(), key=lambda a: (a.session, a.instrument))


def _check_date_order(session_dates: Mapping[int, tuple[dt.date | None, str]]) -> None:
    last: tuple[int, dt.date] | None = None
    for s in sorted(session_dates):
        d, where = session_dates[s]
        if d is None:
            continue
        if last is not None and d < last[1]:
            raise MeasureError(
                f"dates out of order: session {s} ({d}) is before session {last[0]} ({last[1]})",
                where=where,
            )
        last = (s, d)


def _int(v: object, field: str, where: str) -> int:
    try:
        f = float(str(v).strip())
    except ValueError:
        raise MeasureError(f"{field} is not a number", where=where) from None
    if not f.is_integer() or f < 0:
        raise MeasureError(f"{field} must be a whole number ≥ 0", where=where)
    return int(f)


def _date(v: object, where: str) -> dt.date | None:
    if _blank(v):
        return None
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v).strip())
    except ValueError:
        raise MeasureError("date must be YYYY-MM-DD", where=where) from None


def write_responses_csv(admins: Iterable[Administration]) -> str:
    """Long-format CSV text (used by the examples and round-trip tests)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(LONG_COLUMNS)
    for a in admins:
        for item, value in a.answers.items():
            w.writerow([a.session, a.date or "", a.instrument, item, f"{value:g}"])
        for item, text in a.texts.items():
            w.writerow([a.session, a.date or "", a.instrument, item, text])
    return buf.getvalue()
