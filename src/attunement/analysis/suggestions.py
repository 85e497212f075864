"""Suggested repairs for rupture episodes that were not repaired in the session.

The suggestions are rules over the episode's evidence (kind, markers, the therapist failure
that preceded it, flags, whether it recurs), with clinician-facing templates in
``data/repair_suggestions.toml`` so that a clinician can read and change them without
touching code. Templates are filled with timestamps and code labels only: never a quote,
never a diagnosis. A boundary crossing (``F_BOUNDARY``) is never coached as repair; the only
suggestion for an escalated episode is consultation or supervision.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from attunement.errors import SchemaError
from attunement.model import Episode, Suggestion, default_codebook

DATA_FILE = "data/repair_suggestions.toml"
MAX_SUGGESTIONS = 3
#: Episodes that still need a repair move.
NEEDS_REPAIR = ("unresolved", "not_addressed")
PLACEHOLDERS = frozenset({"at", "end_at", "marker", "failure", "failure_at", "flagged_at"})
FLAGS = ("TERMINATION_RISK", "BOUNDARY_PRESSURE", "ESCALATE")
Kind = Literal["withdrawal", "confrontation", "mixed"]


def _check_template(text: str) -> str:
    fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    unknown = fields - PLACEHOLDERS
    if unknown:
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
    return text


class ContextKeywords(BaseModel):
    """Keyword lists the context rules match (see the comments in the data file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    termination: tuple[str, ...] = Field(min_length=1)
    termination_explicit: tuple[str, ...] = Field(min_length=1)
    personal_relationship: tuple[str, ...] = Field(min_length=1)
    therapy_words: tuple[str, ...] = Field(min_length=1)
    closed_question_starts: tuple[str, ...] = Field(min_length=1)
    open_invitations: tuple[str, ...] = Field(min_length=1)
    reflection_cues: tuple[str, ...] = Field(min_length=1)
    owned_failure: tuple[str, ...] = ()


class Escalate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Literal["ESCALATE"]
    text: str

    _text = field_validator("text")(_check_template)


class Rule(BaseModel):
    """One suggestion rule: all conditions must hold (empty/None = no condition)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    strategy: str
    priority: int
    text: str
    kinds: tuple[Kind, ...] = ()
    markers_any: tuple[str, ...] = ()
    flags_any: tuple[str, ...] = ()
    contribution: bool | None = None
    affect_mismatch: bool | None = None
    recurring: bool | None = None
    history: bool | None = None

    _text = field_validator("text")(_check_template)

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, v: str) -> str:
        if v not in default_codebook().ids("resolution"):
            raise ValueError(f"{v!r} is not a resolution strategy in the codebook")
        return v

    @field_validator("markers_any")
    @classmethod
    def _markers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        known = set(default_codebook().ids("withdrawal", "confrontation"))
        bad = [c for c in v if c not in known]
        if bad:
            raise ValueError(f"not rupture marker codes: {bad}")
        return v

    @field_validator("flags_any")
    @classmethod
    def _flags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in v if c not in FLAGS]
        if bad:
            raise ValueError(f"unknown flags {bad}; known: {list(FLAGS)}")
        return v


class RepairData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    context: ContextKeywords
    escalate: Escalate
    rule: tuple[Rule, ...] = Field(min_length=1)

    @field_validator("rule")
    @classmethod
    def _unique(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        ids = [r.id for r in rules]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate rule ids {sorted(dup)}")
        return rules


def parse_repair_data(data: bytes, where: str) -> RepairData:
    """Validate a suggestions file; errors name the file and the offending entry."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
        return RepairData.model_validate(raw)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"not a valid TOML file ({exc})", where=where) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SchemaError(f"{loc}: {first['msg']}", where=where) from None


@cache
def repair_data() -> RepairData:
    """The bundled suggestions and keyword lists (validated once per process)."""
    data = resources.files("attunement").joinpath(DATA_FILE).read_bytes()
    return parse_repair_data(data, f"attunement/{DATA_FILE}")


class EpisodeFacts(BaseModel):
    """What the rules look at, computed by the episodes analyzer from the evidence."""

    model_config = ConfigDict(extra="forbid")

    affect_mismatch: bool = False
    recurring: bool = False
    history: bool = False
    flagged_at: str | None = None
    flagged_ids: list[str] = Field(default_factory=list)


def _label(code: str) -> str:
    try:
        return default_codebook().get(code).label.lower()
    except SchemaError:
        return code


def _fill(text: str, values: dict[str, str]) -> str:
    return " ".join(text.format(**values).split())


def _rule_applies(rule: Rule, ep: Episode, facts: EpisodeFacts) -> bool:
    codes = {m.code for m in ep.markers}
    checks = [
        not rule.kinds or ep.kind in rule.kinds,
        not rule.markers_any or bool(codes & set(rule.markers_any)),
        not rule.flags_any or bool(set(ep.flags) & set(rule.flags_any)),
        rule.contribution is None or rule.contribution == bool(ep.contribution),
        rule.affect_mismatch is None or rule.affect_mismatch == facts.affect_mismatch,
        rule.recurring is None or rule.recurring == facts.recurring,
        rule.history is None or rule.history == facts.history,
    ]
    return all(checks)


def suggest(ep: Episode, facts: EpisodeFacts, data: RepairData | None = None) -> list[Suggestion]:
    """1–3 suggestions for an episode that needs repair (none for a repaired one).

    An episode flagged ``ESCALATE`` gets exactly one suggestion, consultation, whatever its
    resolution: a boundary crossing is not a rupture to repair.
    """
    data = data or repair_data()
    first = ep.markers[0] if ep.markers else None
    last = ep.markers[-1] if ep.markers else None
    top = max(ep.markers, key=lambda m: m.probability) if ep.markers else None
    failure = ep.contribution[-1] if ep.contribution else None
    values = {
        "at": _when(first.timestamp, first.utterance_id) if first else ep.start_id,
        "end_at": _when(last.timestamp, last.utterance_id) if last else ep.end_id,
        "marker": _label(top.code) if top else "rupture marker",
        "failure": _label(failure.code) if failure else "response",
        "failure_at": _when(failure.timestamp, failure.utterance_id) if failure else "",
        "flagged_at": facts.flagged_at or ep.start_id,
    }
    if "ESCALATE" in ep.flags:
        return [
            Suggestion(
                strategy=data.escalate.strategy,
                text=_fill(data.escalate.text, values),
                because=facts.flagged_ids or [ep.start_id],
            )
        ]
    if ep.resolution not in NEEDS_REPAIR:
        return []
    because = [m.utterance_id for m in ep.markers]
    out: list[Suggestion] = []
    for rule in sorted(data.rule, key=lambda r: -r.priority):
        if len(out) >= MAX_SUGGESTIONS:
            break
        if any(s.strategy == rule.strategy for s in out) or not _rule_applies(rule, ep, facts):
            continue
        keys = set(rule.markers_any) | set(rule.flags_any)
        ids = [m.utterance_id for m in ep.markers if m.code in keys] or list(because)
        if rule.contribution and ep.contribution:
            ids = [e.utterance_id for e in ep.contribution] + ids
        out.append(
            Suggestion(strategy=rule.strategy, text=_fill(rule.text, values), because=_dedup(ids))
        )
    return out


def _when(timestamp: str | None, utterance_id: str) -> str:
    return timestamp if timestamp else utterance_id


def _dedup(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))
