"""The normalized session: what every reader produces and every analyzer annotates.

Four nouns, as in ConvoKit: a :class:`Session` holds :class:`Speaker` s and
:class:`Utterance` s; analyzers attach :class:`Annotation` s (codes) to utterances, numeric
``features`` per utterance, summary ``metrics`` per analyzer, and rupture
:class:`~attunement.model.episode.Episode` s. Core fields are fixed; anything a reader or
analyzer wants to carry beyond them goes into ``meta`` / ``features`` / ``metrics`` so
that the JSON schema stays stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from attunement.model.episode import Episode
from attunement.model.limits import (
    MAX_ID_CHARS,
    MAX_SECONDS,
    MAX_SESSION_NUMBER,
    MAX_SPEAKER_CHARS,
    MAX_UTTERANCES,
    problem,
)

SCHEMA_VERSION = "attunement.session/1"


class Role(StrEnum):
    """Every participant is either a therapist or a client (couples, families, groups
    have several clients; co-therapy has several therapists)."""

    THERAPIST = "therapist"
    CLIENT = "client"


#: Source prefix of annotations written by the context rules (``context@1``).
CONTEXT_SOURCE = "context@"


class Speaker(BaseModel):
    """A participant, identified by the label the transcript uses for them."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1,
        max_length=MAX_SPEAKER_CHARS,
        description="Speaker label as written in the transcript, e.g. 'Dr. Lee'.",
    )
    role: Role
    role_confidence: float = Field(
        1.0, ge=0.0, le=1.0, description="1.0 when the user named the role; lower when inferred."
    )


class Annotation(BaseModel):
    """One code on one utterance, from a model, a rule or a human coder."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(
        max_length=MAX_ID_CHARS,
        description="Codebook identifier, e.g. 'W_MINIMAL' or 'E_EXPLORATION'.",
    )
    probability: float = Field(1.0, ge=0.0, le=1.0)
    level: str | None = Field(
        None, max_length=MAX_ID_CHARS, description="For graded codes: 'weak' or 'strong'."
    )
    source: str = Field(
        "human", max_length=MAX_ID_CHARS, description="'human' or '<analyzer name>@<version>'."
    )
    note: str | None = Field(None, description="Why the code applies, for the clinician.")


class Utterance(BaseModel):
    """One speaker turn (consecutive cues of one speaker are merged by the readers)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        description="Stable id within the session: 'u0001', 'u0002', …",
    )
    index: int = Field(ge=0, description="Position in Session.utterances (0-based).")
    speaker: str = Field(min_length=1, max_length=MAX_SPEAKER_CHARS)
    role: Role
    text: str
    start: float | None = Field(
        None,
        ge=0.0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Seconds from session start (at most a week).",
    )
    end: float | None = Field(
        None, ge=0.0, le=MAX_SECONDS, allow_inf_nan=False, description="Not before start."
    )
    line: int | None = Field(None, ge=1, le=2**31, description="1-based line in the source file.")
    annotations: list[Annotation] = Field(default_factory=list)
    features: dict[str, float | None] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_client(self) -> bool:
        return self.role is Role.CLIENT

    @property
    def is_therapist(self) -> bool:
        return self.role is Role.THERAPIST

    def effective(self) -> dict[str, Annotation]:
        """The annotation that counts for each code: a human coder's, else a context
        rule's (which may confirm or demote a model's code), else the most probable one.

        Every annotation stays in ``annotations`` (and in the JSON) so the reasoning can be
        audited; reports and metrics read this view so a demoted code does not show.
        """
        out: dict[str, Annotation] = {}
        rank: dict[str, tuple[int, float]] = {}
        for a in self.annotations:
            tier = 2 if a.source == "human" else 1 if a.source.startswith(CONTEXT_SOURCE) else 0
            key = (tier, a.probability)
            if a.code not in rank or key > rank[a.code]:
                rank[a.code] = key
                out[a.code] = a
        return out

    def codes(self, min_probability: float = 0.5) -> list[Annotation]:
        """Effective annotations at or above ``min_probability``, one per code."""
        return [a for a in self.effective().values() if a.probability >= min_probability]

    def has_code(self, code: str, min_probability: float = 0.5) -> bool:
        a = self.effective().get(code)
        return a is not None and a.probability >= min_probability

    def timestamp(self) -> str | None:
        """'41:12' or '1:02:03' — how clinicians cite a moment; None without timing."""
        return format_timestamp(self.start) if self.start is not None else None


class SessionMeta(BaseModel):
    """Optional facts about the session; never required for analysis."""

    model_config = ConfigDict(extra="allow")

    client_id: str | None = Field(None, max_length=MAX_ID_CHARS)
    therapist_id: str | None = Field(None, max_length=MAX_ID_CHARS)
    session_number: int | None = Field(None, ge=0, le=MAX_SESSION_NUMBER)
    date: dt.date | None = None
    modality: str | None = Field(None, max_length=MAX_ID_CHARS)


class Session(BaseModel):
    """A normalized transcript plus everything the analyzers found in it."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = Field(SCHEMA_VERSION, max_length=MAX_ID_CHARS)
    id: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    source: str | None = Field(None, description="File name the session was read from.")
    format: str | None = Field(None, description="Reader that produced it: 'vtt', 'text', …")
    meta: SessionMeta = Field(default_factory=SessionMeta)
    speakers: list[Speaker]
    utterances: list[Utterance] = Field(max_length=MAX_UTTERANCES)
    metrics: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Analyzer name → JSON-able summary."
    )
    episodes: list[Episode] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    provenance: list[str] = Field(
        default_factory=list, description="'<analyzer>@<version>' in the order applied."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Session:
        """Cross-field checks, one pass over the utterances (cheap for 100k of them).

        An ``index`` that is not the utterance's position is refused rather than
        renumbered: analyzers slice by index, and silently renumbering a stored session
        would change what its episodes and ids point at without anyone noticing.
        """
        speakers: set[str] = set()
        for i, s in enumerate(self.speakers):
            if s.id in speakers:
                raise problem(("speakers", i, "id"), "duplicate speaker id")
            speakers.add(s.id)
        seen: set[str] = set()
        for i, u in enumerate(self.utterances):
            if u.index != i:
                raise problem(
                    ("utterances", i, "index"), "index must equal the utterance's position"
                )
            if u.id in seen:
                raise problem(("utterances", i, "id"), "duplicate utterance id")
            seen.add(u.id)
            if u.speaker not in speakers:
                raise problem(
                    ("utterances", i, "speaker"), "speaker is not one of the session's speakers"
                )
            if u.start is not None and u.end is not None and u.end < u.start:
                raise problem(("utterances", i, "end"), "utterance ends before it starts")
        return self

    # --- navigation helpers -------------------------------------------------------
    def with_meta(self, meta: Mapping[str, Any]) -> Session:
        """This session with ``meta`` laid over its own (validated: dates parsed)."""
        if not meta:
            return self
        merged = {**self.meta.model_dump(exclude_none=True), **meta}
        return self.model_copy(update={"meta": SessionMeta.model_validate(merged)})

    def utterance(self, utterance_id: str) -> Utterance:
        for u in self.utterances:
            if u.id == utterance_id:
                return u
        raise KeyError(utterance_id)

    def by_role(self, role: Role) -> list[Utterance]:
        return [u for u in self.utterances if u.role is role]

    def speaker(self, speaker_id: str) -> Speaker:
        for s in self.speakers:
            if s.id == speaker_id:
                return s
        raise KeyError(speaker_id)

    def exchanges(self) -> Iterator[tuple[Utterance, Utterance]]:
        """(client turn, therapist turn that answers it), in order.

        The therapist turn is the first therapist utterance after a client utterance, so
        in a group or couple session the answer is paired with the client who spoke last.
        """
        last_client: Utterance | None = None
        for u in self.utterances:
            if u.role is Role.CLIENT:
                last_client = u
            elif last_client is not None:
                yield last_client, u
                last_client = None

    def context(self, utterance: Utterance, turns: int = 3) -> list[Utterance]:
        """The ``turns`` utterances before ``utterance`` (oldest first)."""
        at = min(utterance.index, len(self.utterances))
        return self.utterances[max(0, at - turns) : at]

    @property
    def duration(self) -> float | None:
        ends = [u.end if u.end is not None else u.start for u in self.utterances]
        known = [e for e in ends if e is not None]
        return max(known) if known else None

    def mark_applied(self, name: str, version: str) -> None:
        """Record that an analyzer ran, once per name (re-running replaces its results)."""
        tag = f"{name}@{version}"
        self.provenance = [p for p in self.provenance if p.split("@", 1)[0] != name]
        self.provenance.append(tag)


def format_timestamp(seconds: float) -> str:
    """Format seconds as 'M:SS' or 'H:MM:SS'."""
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
