"""Tabular records (CSV rows, simple JSON utterance objects) → raw turns.

Both formats name their fields freely ('Speaker Name', 'utterance', 'timestamp'), so
field names are resolved once per file from an alias table, optionally overridden by
the caller's ``columns=`` mapping. Columns named after a codebook family or code carry a
human coder's labels and become ``Annotation(source="human")``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from attunement.errors import NOT_SHOWN, safe_ident
from attunement.io.base import RawTurn, Source
from attunement.io.labels import role_word
from attunement.io.times import parse_time
from attunement.model import Annotation, Codebook, Role, default_codebook

FIELDS = ("speaker", "text", "start", "end", "role")
ALIASES: dict[str, tuple[str, ...]] = {
    "speaker": (
        "speaker",
        "interlocutor",
        "name",
        "speaker_name",
        "speaker name",
        "who",
        "participant",
        "author",
        "speaker_id",
    ),
    "text": (
        "text",
        "utterance",
        "content",
        "utterance_text",
        "utterance text",
        "transcript",
        "message",
        "sentence",
    ),
    "start": (
        "start",
        "start_time",
        "start time",
        "timestamp",
        "time",
        "begin",
        "start_s",
        "start_seconds",
        "offset",
    ),
    "end": ("end", "end_time", "end time", "stop", "end_s", "end_seconds"),
    "role": ("role", "speaker_role", "speaker role"),
}
#: synonyms a caller may use as keys of ``columns=``
_KEY_SYNONYMS = {"time": "start", "timestamp": "start", "name": "speaker", "utterance": "text"}
_FAMILY_COLUMNS = {
    "withdrawal": "withdrawal",
    "confrontation": "confrontation",
    "client_flag": "client_flag",
    "client_flags": "client_flag",
    "empathy": "empathy",
    "resolution": "resolution",
    "failure": "failure",
    "failures": "failure",
    "behaviour": "behaviour",
    "behavior": "behaviour",
}
_CODE_LIST_COLUMNS = frozenset({"codes", "code", "labels", "markers", "annotations"})
_SPLIT = re.compile(r"[;,|]")
_LEVEL = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*(?:[:=]\s*([A-Za-z]+)|\(\s*([A-Za-z]+)\s*\))?$")
_EMPTY = frozenset({"", "-", "none", "n/a", "na", "0", "no", "n", "false"})
_TRUE = frozenset({"1", "yes", "y", "true", "x", "✓"})


@dataclass(frozen=True, slots=True)
class LabelColumn:
    """A column with human codes: a list of codes, one family's codes, or one code."""

    name: str
    family: str | None = None
    code: str | None = None


@dataclass(slots=True)
class Plan:
    """Where each field lives in a record (column name as written in the file)."""

    fields: dict[str, str] = field(default_factory=dict)
    labels: list[LabelColumn] = field(default_factory=list)


def plan_columns(names: Sequence[str], columns: Mapping[str, str] | None, source: Source) -> Plan:
    """Resolve speaker/text/start/end/role and label columns among ``names``."""
    by_key = {n.strip().casefold(): n for n in names}
    plan = Plan()
    for key, wanted in (columns or {}).items():
        logical = _KEY_SYNONYMS.get(key.strip().casefold(), key.strip().casefold())
        if logical not in FIELDS:
            raise source.error(f"unknown key {key!r} in columns (use {', '.join(FIELDS)})")
        found = by_key.get(wanted.strip().casefold())
        if found is None:
            raise source.error(f"column {wanted!r} given for {logical} is not in the header")
        plan.fields[logical] = found
    for logical in FIELDS:
        if logical in plan.fields:
            continue
        for alias in ALIASES[logical]:
            if alias in by_key and by_key[alias] not in plan.fields.values():
                plan.fields[logical] = by_key[alias]
                break
    for name in ("speaker", "text"):
        if name not in plan.fields:
            raise source.error(
                f"no {name} column found; name it '{ALIASES[name][0]}' or pass "
                f"columns={{'{name}': '<header>'}}"
            )
    used = set(plan.fields.values())
    codes = {c.casefold(): c for c in default_codebook().ids()}
    for original in names:
        if original in used:
            continue
        key = original.strip().casefold()
        if key in _FAMILY_COLUMNS:
            plan.labels.append(LabelColumn(original, family=_FAMILY_COLUMNS[key]))
        elif key in _CODE_LIST_COLUMNS:
            plan.labels.append(LabelColumn(original))
        elif key in codes:
            plan.labels.append(LabelColumn(original, code=codes[key]))
    return plan


def parse_role(value: str, source: Source, line: int | None) -> Role | None:
    value = value.strip()
    if not value:
        return None
    word = role_word(value)
    if word is None:
        raise source.error("unknown role value (expected 'therapist' or 'client')", line=line)
    return Role(word)


def parse_field_time(value: object, what: str, source: Source, line: int | None) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str | int | float):
        raise source.error(f"{what} time is not a number or a clock time", line=line)
    seconds = parse_time(value)
    if seconds is None:
        raise source.error(
            f"unreadable {what} time (expected HH:MM:SS, MM:SS or seconds)", line=line
        )
    return seconds


def cell_annotations(
    column: LabelColumn, value: str, source: Source, line: int | None
) -> list[Annotation]:
    """Human annotations from one label cell; unknown codes are errors naming the cell."""
    value = value.strip()
    cb = default_codebook()
    if column.code is not None:
        return _flag(column, value, cb, source, line)
    if value.casefold() in _EMPTY:
        return []
    found: list[Annotation] = []
    for token in _SPLIT.split(value):
        token = token.strip()
        if not token or token.casefold() in _EMPTY:
            continue
        m = _LEVEL.match(token)
        code = _lookup(m.group(1), cb) if m else None
        if m is None or code is None:
            raise source.error(
                f"unknown code {safe_ident(token)} in column {column.name!r}", line=line
            )
        if column.family is not None and cb.family_of(code) != column.family:
            raise source.error(
                f"code {code!r} in column {column.name!r} is not a {column.family} code",
                line=line,
            )
        level = (m.group(2) or m.group(3) or "").casefold() or None
        if level == "none":
            continue
        found.append(_annotation(code, level, cb, column, source, line))
    return found


def _flag(
    column: LabelColumn, value: str, cb: Codebook, source: Source, line: int | None
) -> list[Annotation]:
    assert column.code is not None
    key = value.casefold()
    if key in _EMPTY:
        return []
    if key in _TRUE:
        return [Annotation(code=column.code, source="human")]
    if key in {"weak", "strong"}:
        return [_annotation(column.code, key, cb, column, source, line)]
    raise source.error(
        f"value in column {column.name!r} is not 1/0, yes/no or weak/strong",
        line=line,
    )


def _annotation(
    code: str,
    level: str | None,
    cb: Codebook,
    column: LabelColumn,
    source: Source,
    line: int | None,
) -> Annotation:
    if level is not None and (cb.family_of(code) != "empathy" or level not in cb.empathy_levels):
        shown = f"'{level}'" if level in cb.empathy_levels else NOT_SHOWN
        raise source.error(
            f"level {shown} for {code!r} in column {column.name!r} is not "
            "allowed (only empathy codes take weak/strong)",
            line=line,
        )
    return Annotation(code=code, level=level, source="human")


def _lookup(token: str, cb: Codebook) -> str | None:
    ids = cb.ids()
    if token in ids:
        return token
    folded = token.casefold()
    return next((c for c in ids if c.casefold() == folded), None)


def make_turn(
    values: Mapping[str, str], plan: Plan, previous: RawTurn | None, source: Source, line: int
) -> RawTurn | None:
    """One record → a raw turn; None for a record without text. An empty speaker cell
    continues the previous speaker."""
    text = _cell(values, plan, "text")
    speaker = _cell(values, plan, "speaker").strip()
    labels: list[Annotation] = []
    for column in plan.labels:
        labels.extend(cell_annotations(column, values.get(column.name, ""), source, line))
    if not text.strip():
        return None
    if not speaker:
        if previous is None:
            raise source.error("row has text but no speaker", line=line)
        speaker = previous.speaker
    start = parse_field_time(_cell(values, plan, "start"), "start", source, line)
    end = parse_field_time(_cell(values, plan, "end"), "end", source, line)
    role = parse_role(_cell(values, plan, "role"), source, line)
    return RawTurn(
        speaker=speaker, text=text, start=start, end=end, line=line, role=role, annotations=labels
    )


def _cell(values: Mapping[str, str], plan: Plan, logical: str) -> str:
    column = plan.fields.get(logical)
    return values.get(column, "") if column is not None else ""
