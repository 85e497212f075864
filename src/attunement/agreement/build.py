"""From coder tables and session JSON to one ``units × coders`` matrix per code.

Codes of the codebook keep their meaning: presence codes (markers, flags, repairs,
failures) are binary, the empathy mechanisms ordinal (``none`` < ``weak`` < ``strong``),
``behaviour`` nominal over the codebook's seven behaviours. A lab's own code is binary
when its values are 0/1 (or yes/no), ordinal when they are all numbers, nominal
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from attunement.agreement.stats import Kind, Ratings
from attunement.agreement.table import Coding, Rating
from attunement.errors import SchemaError, safe_ident
from attunement.model import Session, default_codebook

BEHAVIOUR = "behaviour"
LEVELS = ("none", "weak", "strong")
_YES = {"1", "yes", "true", "x", "y"}
_NO = {"0", "no", "false", "n"}


def _binary_codes() -> dict[str, str]:
    cb = default_codebook()
    fams = ("withdrawal", "confrontation", "client_flag", "resolution", "failure")
    return {c.id: c.role for c in cb.code if c.family in fams}


def session_key(session: Session, path: Path, known: set[str]) -> str:
    """The table's name for this session JSON (its id, source stem or file stem)."""
    stem = path.name.removesuffix(".json").removesuffix(".session")
    for alias in (session.id, Path(session.source).stem if session.source else None, stem):
        if alias and alias in known:
            return alias
    return stem


def codings_from_sessions(
    paths: Sequence[Path],
    coder: str,
    known_sessions: set[str],
    by_index: bool,
    codes: set[str] | None = None,
) -> list[Coding]:
    """A model's codes in analyzed session JSON as rows of a coder table.

    Every utterance of a presence code's role gets 1 (annotated) or 0; therapist turns
    get an empathy level (``none`` without annotation) and their behaviour. Human
    annotations are left out. ``codes`` limits the codes (default: the codebook's)."""
    from attunement.io import read_session

    binary = _binary_codes()
    cb = default_codebook()
    empathy, behaviours = set(cb.ids("empathy")), set(cb.ids("behaviour"))
    wanted = codes if codes is not None else {*binary, *empathy, BEHAVIOUR}
    out: list[Coding] = []
    for path in paths:
        session = read_session(path, fmt="json")
        if not any(a.source != "human" for u in session.utterances for a in u.annotations):
            raise SchemaError("session has no model codes (run attune analyze)", where=path.name)
        key = session_key(session, path, known_sessions)
        for u in session.utterances:
            unit = f"#{u.index}" if by_index else u.id
            mine = {a.code: a for a in u.annotations if a.source != "human"}
            role = u.role.value
            for code in sorted(wanted):
                if code in binary:
                    if binary[code] != role:
                        continue
                    value = "1" if code in mine else "0"
                elif code in empathy:
                    if role != "therapist":
                        continue
                    a = mine.get(code)
                    value = (a.level or "weak") if a else "none"
                elif code == BEHAVIOUR:
                    found = [c for c in mine if c in behaviours]
                    if role != "therapist" or not found:
                        continue
                    value = found[0]
                else:
                    continue
                where = f"{path.name} utterance {u.index + 1}"
                out.append(Coding(coder, key, unit, code, value, role, None, where))
    return out


def _kind(code: str, values: set[str]) -> tuple[Kind, list[str]]:
    cb = default_codebook()
    low = {v.lower() for v in values}
    if code in cb.ids("empathy"):
        return "ordinal", list(LEVELS)
    if code == BEHAVIOUR:
        return "nominal", cb.ids("behaviour")
    if code in _binary_codes() or low <= _YES | _NO:
        return "binary", ["0", "1"]
    try:
        nums = sorted({float(v) for v in values})
    except ValueError:
        return "nominal", sorted(values)
    return "ordinal", [_num(x) for x in nums]


def _num(x: float) -> str:
    return str(int(x)) if x.is_integer() else str(x)


def _index(kind: Kind, labels: list[str], value: str) -> int | None:
    v = value.strip()
    if kind == "binary":
        return 1 if v.lower() in _YES else 0 if v.lower() in _NO else None
    if labels == list(LEVELS):
        if v in ("0", "1", "2"):
            return int(v)
        return labels.index(v.lower()) if v.lower() in labels else None
    if kind == "ordinal":
        try:
            return labels.index(_num(float(v)))
        except ValueError:
            return None
    return labels.index(v) if v in labels else None


def ratings_by_code(
    codings: Iterable[Coding], coders: Sequence[str] | None = None
) -> tuple[list[Ratings], list[str]]:
    """One :class:`Ratings` per code (coders in ``coders`` order, else first seen), and
    the coder list. Two different values from one coder for one unit are an error."""
    rows = list(codings)
    order = list(coders) if coders else list(dict.fromkeys(c.coder for c in rows))
    col = {c: i for i, c in enumerate(order)}
    by_code: dict[str, list[Coding]] = {}
    for c in rows:
        by_code.setdefault(c.code, []).append(c)
    out: list[Ratings] = []
    for code in sorted(by_code):
        group = by_code[code]
        kind, labels = _kind(code, {c.value for c in group})
        units: dict[tuple[str, str], int] = {}
        for c in group:
            units.setdefault((c.session, c.unit), len(units))
        values = np.full((len(units), len(order)), np.nan)
        for c in group:
            i = _index(kind, labels, c.value)
            if i is None:
                raise SchemaError(
                    f"value of {safe_ident(code)} is not one of its {kind} values", where=c.where
                )
            u, j = units[(c.session, c.unit)], col[c.coder]
            if not np.isnan(values[u, j]) and values[u, j] != i:
                raise SchemaError(
                    f"one coder gave {safe_ident(code)} two values for one utterance",
                    where=c.where,
                )
            values[u, j] = i
        out.append(Ratings(code=code, kind=kind, coders=order, labels=labels, values=values))
    return out, order


def ratings_by_scale(
    rows: Iterable[Rating],
) -> list[tuple[str, list[str], np.ndarray]]:
    """(scale, coders, ``sessions × coders`` matrix with ``nan`` for missing) per scale."""
    data = list(rows)
    out = []
    for scale in sorted({r.scale for r in data}):
        group = [r for r in data if r.scale == scale]
        coders = list(dict.fromkeys(r.coder for r in group))
        sessions = list(dict.fromkeys(r.session for r in group))
        y = np.full((len(sessions), len(coders)), np.nan)
        s_ix = {s: i for i, s in enumerate(sessions)}
        c_ix = {c: i for i, c in enumerate(coders)}
        for r in group:
            y[s_ix[r.session], c_ix[r.coder]] = r.value
        out.append((scale, coders, y))
    return out
