"""Dropout risk: an explainable sum of warning signs, each with its contribution.

Components (weights in ``course/dropout.toml``):

* ``termination_talk`` — sessions among the last few transcripts with TERMINATION_RISK;
* ``absences`` — client cancellations and no-shows in the recent window;
* ``unresolved_ruptures`` — cross-session episodes unresolved (1) or still open (0.5);
* ``alliance_decline`` — the least-squares slope of the last alliance checks, when falling.

Each component is ``weight × min(1, value / full_at)``; the score is their sum (0..1).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from attunement.course.context import CLIENT_ABSENCES, Event
from attunement.course.model import (
    CourseEpisode,
    DropoutRisk,
    Priority,
    RiskComponent,
    SessionRecord,
)
from attunement.measures.alliance import slope


class _Component(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weight: float = Field(ge=0.0, le=1.0)
    full_at: float = Field(gt=0.0)


class DropoutConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    window_sessions: int = Field(ge=1)
    window_days: int = Field(ge=1)
    slope_sessions: int = Field(ge=3)
    medium_at: float
    high_at: float
    termination_talk: _Component
    absences: _Component
    unresolved_ruptures: _Component
    alliance_decline: _Component


@cache
def dropout_config() -> DropoutConfig:
    raw = (resources.files("attunement.course") / "dropout.toml").read_text(encoding="utf-8")
    return DropoutConfig.model_validate(tomllib.loads(raw))


def level_of(score: float, cfg: DropoutConfig) -> Priority:
    return "high" if score >= cfg.high_at else "medium" if score >= cfg.medium_at else "low"


def _part(name: str, value: float, c: _Component, reason: str) -> RiskComponent:
    contribution = c.weight * min(1.0, max(0.0, value) / c.full_at)
    return RiskComponent(
        name=name,
        value=round(value, 3),
        weight=c.weight,
        contribution=round(contribution, 3),
        reason=reason,
    )


def dropout_risk(
    records: list[SessionRecord],
    events: list[Event],
    episodes: list[CourseEpisode],
    *,
    cfg: DropoutConfig | None = None,
    alliance_unit: float = 1.0,
) -> DropoutRisk:
    """``alliance_unit``: a tenth of the alliance instrument's range; the trend is
    weighed per tenth of the range (the 0–10 check's points) whatever the scale."""
    cfg = cfg or dropout_config()
    with_transcript = [r for r in records if r.transcript is not None][-cfg.window_sessions :]
    talk = [r.number for r in with_transcript if r.termination_talk]
    talk_reason = (
        f"talk of ending therapy in session(s) {', '.join(map(str, talk))}"
        if talk
        else "no talk of ending therapy in recent transcripts"
        if with_transcript
        else "no transcripts: termination talk not assessed"
    )
    dates = [d for d in [*(r.date for r in records), *(e.date for e in events)] if d is not None]
    last = max(dates) if dates else dt.date.max
    recent = [
        e for e in events if e.kind in CLIENT_ABSENCES and (last - e.date).days <= cfg.window_days
    ]
    absence_reason = (
        "client cancelled or missed " + ", ".join(str(e.date) for e in recent)
        if recent
        else f"no client cancellations or no-shows in the last {cfg.window_days} days"
    )
    open_eps = [e for e in episodes if e.state in ("open", "working_through")]
    unresolved = [e for e in episodes if e.state == "unresolved"]
    value = len(unresolved) + 0.5 * len(open_eps)
    rup_reason = (
        "; ".join(
            [f"episode {e.id} unresolved since session {e.start_session}" for e in unresolved]
            + [f"episode {e.id} {e.state.replace('_', ' ')}" for e in open_eps]
        )
        or "no open or unresolved rupture episode"
    )
    alliance = [r.alliance for r in records if r.alliance is not None][-cfg.slope_sessions :]
    s = slope(alliance)
    decline = -s / alliance_unit if s is not None and s < 0 else 0.0
    slope_reason = (
        "fewer than 3 alliance checks: trend not assessed"
        if s is None
        else f"alliance check trend {s:+.2f} points per session over the last {len(alliance)}"
    )
    parts = [
        _part("termination_talk", float(len(talk)), cfg.termination_talk, talk_reason),
        _part("absences", float(len(recent)), cfg.absences, absence_reason),
        _part("unresolved_ruptures", value, cfg.unresolved_ruptures, rup_reason),
        _part("alliance_decline", decline, cfg.alliance_decline, slope_reason),
    ]
    score = round(min(1.0, sum(p.contribution for p in parts)), 3)
    return DropoutRisk(score=score, level=level_of(score, cfg), components=parts)


def dropout_score_arrays(
    termination_sessions: NDArray[np.float64],
    absences: NDArray[np.float64],
    unresolved: NDArray[np.float64],
    alliance_slope: NDArray[np.float64],
    cfg: DropoutConfig | None = None,
) -> NDArray[np.float64]:
    """The same score as :func:`dropout_risk` for many clients at once (one value each)."""
    cfg = cfg or dropout_config()

    def part(v: NDArray[np.float64], c: _Component) -> NDArray[np.float64]:
        out: NDArray[np.float64] = c.weight * np.minimum(1.0, np.maximum(0.0, v) / c.full_at)
        return out

    total = (
        part(termination_sessions, cfg.termination_talk)
        + part(absences, cfg.absences)
        + part(unresolved, cfg.unresolved_ruptures)
        + part(np.nan_to_num(-alliance_slope, nan=0.0), cfg.alliance_decline)
    )
    result: NDArray[np.float64] = np.minimum(1.0, total)
    return result
