"""The client course: what ``attune client`` computes, as a versioned JSON schema.

``attunement.client/1`` — documented in ``docs/client.md``. Every alert carries its
reasons; every episode carries a timeline of evidence (session, date, source, what).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from attunement.course.context import ClientContext, Event
from attunement.measures.change import Change, SuddenShift
from attunement.measures.scoring import Score

CLIENT_SCHEMA_VERSION = "attunement.client/1"

EpisodeState = Literal[
    "open", "working_through", "resolved", "enhanced", "unresolved", "ended_therapy"
]
Priority = Literal["low", "medium", "high"]
OpenedBy = Literal["therapist_failure", "client_report", "alliance_drop", "transcript"]
Source = Literal["rupture_check", "alliance_check", "transcript", "event", "outcome"]


class SessionRecord(BaseModel):
    """What is known about one session, from questionnaires and the transcript."""

    model_config = ConfigDict(extra="forbid")

    number: int
    date: dt.date | None = None
    transcript: str | None = Field(None, description="Transcript file name, when read.")
    alliance: float | None = None
    tension: float | None = None
    tension_resolved: float | None = None
    direction: Literal["withdrawal", "confrontation", "mixed"] | None = None
    client_note: str | None = Field(None, description="Free-text note from the rupture check.")
    markers: dict[str, int] = Field(default_factory=dict, description="Client codes → count.")
    repairs: list[str] = Field(default_factory=list, description="R_* codes seen, in order.")
    failures: list[str] = Field(default_factory=list, description="F_* codes seen.")
    termination_talk: int = 0
    in_session_episodes: list[dict[str, Any]] = Field(default_factory=list)
    headline: dict[str, Any] = Field(default_factory=dict)


class ScorePoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: int
    date: dt.date | None
    score: Score
    rci_vs_baseline: float | None = None


class Trajectory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: str
    name: str
    role: str
    higher_is: str
    score_range: tuple[float, float]
    bands: list[dict[str, Any]]
    cutoff: float | None
    points: list[ScorePoint]
    change: Change | None = None
    sudden: list[SuddenShift] = Field(default_factory=list)
    sudden_sessions: list[tuple[str, int, int]] = Field(
        default_factory=list, description="(kind, pre-session number, post-session number)"
    )


class AllianceSequence(BaseModel):
    """A V-shaped alliance drop and recovery (see :mod:`attunement.measures.alliance`)."""

    model_config = ConfigDict(extra="forbid")

    k: float
    drop_session: int
    recovery_session: int | None
    pre_level: float
    low_score: float
    depth_sd: float
    outcome: Literal["repaired", "enhanced", "unrepaired"]


class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: int | None
    date: dt.date | None
    source: Source
    what: str


class CourseEpisode(BaseModel):
    """A rupture episode that may span many sessions."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Literal["withdrawal", "confrontation", "mixed", "unknown"]
    opened_by: OpenedBy
    state: EpisodeState
    start_session: int | None
    start_date: dt.date | None
    end_session: int | None = None
    end_date: dt.date | None = None
    sessions_spanned: int = 0
    pre_alliance: float | None = None
    post_alliance: float | None = None
    repair_moves: list[str] = Field(default_factory=list)
    acknowledged: bool | None = Field(
        None,
        description="For therapist failures: R_ACKNOWLEDGE seen after it (None: no transcript).",
    )
    timeline: list[TimelineEntry] = Field(default_factory=list)


class RiskComponent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    value: float
    weight: float
    contribution: float
    reason: str


class DropoutRisk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0.0, le=1.0)
    level: Priority
    components: list[RiskComponent]
    note: str = "A documented, explainable sum of warning signs, not a validated prediction model."


class Alert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: str
    priority: Priority
    base_priority: Priority
    text: str
    reasons: list[str]
    context: list[str] = Field(default_factory=list, description="Why priority changed.")
    session: int | None = None
    suggested_moves: list[str] = Field(default_factory=list)


class ClientCourse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = CLIENT_SCHEMA_VERSION
    client_id: str
    context: ClientContext
    sessions: list[SessionRecord]
    events: list[Event]
    trajectories: dict[str, Trajectory]
    alliance_sequences: dict[str, list[AllianceSequence]] = Field(
        default_factory=dict, description="'k1' and 'k2' → V-shaped drop/recovery sequences."
    )
    episodes: list[CourseEpisode]
    dropout: DropoutRisk
    alerts: list[Alert]
    warnings: list[str] = Field(default_factory=list)
    analyzers: list[str] = Field(default_factory=list)
