"""Rupture episodes: markers that belong together, what preceded them, and the repair.

Identifiers follow ``shared/reference/codebook.md`` (section *Episodes*). An episode is
decision support: every claim it makes points at utterance ids and quotes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from attunement.model.limits import MAX_SECONDS

Resolution = Literal["resolved", "partially_resolved", "unresolved", "not_addressed"]
EpisodeKind = Literal["withdrawal", "confrontation", "mixed"]


class Evidence(BaseModel):
    """A coded moment: which utterance, which code, what was said and when."""

    model_config = ConfigDict(extra="forbid")

    utterance_id: str
    code: str
    probability: float = Field(1.0, ge=0.0, le=1.0)
    quote: str = Field(description="The words, shortened to at most ~200 characters.")
    timestamp: str | None = None
    speaker: str | None = None
    cue: str | None = Field(
        None, description="What the voice adds, for recordings: 'after a 3.1 s pause'."
    )


class Suggestion(BaseModel):
    """A repair move offered to the clinician, tied to the evidence that prompts it."""

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(description="Resolution strategy code, e.g. 'R_INVITE'.")
    text: str = Field(description="The suggestion, phrased for a clinician.")
    because: list[str] = Field(default_factory=list, description="Utterance ids it rests on.")


class Episode(BaseModel):
    """One rupture episode within a session."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: EpisodeKind
    start_id: str
    end_id: str
    start: float | None = Field(None, ge=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    end: float | None = Field(None, ge=0.0, le=MAX_SECONDS, allow_inf_nan=False)
    markers: list[Evidence]
    salience: int = Field(ge=1, le=5)
    contribution: list[Evidence] = Field(
        default_factory=list, description="Therapist failures that preceded the markers."
    )
    repairs: list[Evidence] = Field(default_factory=list)
    resolution: Resolution
    resolution_evidence: list[Evidence] = Field(default_factory=list)
    flags: list[str] = Field(
        default_factory=list, description="TERMINATION_RISK, BOUNDARY_PRESSURE, ESCALATE."
    )
    suggestions: list[Suggestion] = Field(default_factory=list)
    summary: str = ""
