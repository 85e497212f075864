"""Item-level views: the latest administrations' item answers beside their totals.

A compact table per series (instrument, and person in a case with members): items ×
sessions, with the instrument's own item wording (``item 1..4`` for score-only shells),
risk items marked, and the total and band from the library's scoring
(:func:`attunement.course.records.score_all`) — nothing is scored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from attunement.web.course import case_series

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as DbSession

    from attunement.store.crypto import Keyring

#: how many of the latest administrations each table shows
LATEST = 6


@dataclass
class ItemRow:
    label: str
    risk: str | None  # the flag's label when this is a risk item
    cells: list[tuple[str, bool]] = field(default_factory=list)  # (value, flag fired)


@dataclass
class ItemTable:
    key: str
    name: str
    score_only: bool
    sessions: list[tuple[int, str]]  # (number, date or "")
    rows: list[ItemRow]
    totals: list[str]
    bands: list[str]
    cutoff: str | None
    earlier: int  # administrations not shown


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def item_tables(db: DbSession, keys: Keyring, client_id: int) -> list[ItemTable]:
    from attunement.course.records import score_all

    series = case_series(db, keys, client_id)
    scores = score_all(series.administrations, series.instruments)
    out = []
    for key, inst in series.instruments.items():
        admins = [a for a in series.administrations if a.instrument == key]
        shown = admins[-LATEST:]
        flags = {f.item: f for f in inst.flags}
        rows = []
        for n, item in enumerate((i for i in inst.items if i.type != "text"), start=1):
            flag = flags.get(item.id)
            row = ItemRow(
                label=f"item {n}" if inst.score_only else item.text,
                risk=flag.label if flag else None,
            )
            for a in shown:
                value = a.answers.get(item.id)
                fired = flag is not None and value is not None and value >= flag.at_least
                row.cells.append((_fmt(value), fired))
            rows.append(row)
        totals, bands = [], []
        for a in shown:
            s = scores[(a.session, key)]
            totals.append(_fmt(s.total) if s.total is not None else "not scored")
            bands.append(s.band or "")
        out.append(
            ItemTable(
                key=key,
                name=inst.name,
                score_only=inst.score_only,
                sessions=[(a.session, a.date.isoformat() if a.date else "") for a in shown],
                rows=rows,
                totals=totals,
                bands=bands,
                cutoff=_fmt(inst.cutoff.value) if inst.cutoff else None,
                earlier=len(admins) - len(shown),
            )
        )
    return out
