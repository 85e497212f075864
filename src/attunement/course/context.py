"""Client context: ``client.toml`` in a client folder.

What the clinician records about the client that weighs an alert (the second seed
essay's factors): when treatment started, a history of neglect or abuse, a fragility
note, how sensitive alerts should be — and the events that are not sessions: sessions
the client cancelled or missed, and appointments the *therapist* missed.

Example::

    client_id = "C-0417"                # pseudonymous, never a name
    treatment_start = 2025-09-01
    history_neglect_or_abuse = true
    fragile = false
    sensitivity = "normal"              # low | normal | high
    therapists = ["Dr. Rowan"]          # speaker labels that are the therapist
    transcripts = "transcripts"         # folder, relative to client.toml

    [[events]]
    date = 2026-03-02
    kind = "therapist_missed"
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from attunement.errors import SchemaError
from attunement.safeparse import load_toml, validate

EventKind = Literal[
    "therapist_missed",  # the therapist forgot or missed an appointment
    "therapist_cancelled",  # the therapist cancelled (with notice)
    "client_cancelled",
    "client_no_show",
    "therapy_ended",  # the client ended therapy / stopped coming
]
CLIENT_ABSENCES: tuple[EventKind, ...] = ("client_cancelled", "client_no_show")
THERAPIST_FAILURES: tuple[EventKind, ...] = ("therapist_missed",)


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    kind: EventKind
    session: int | None = Field(None, ge=0, description="The appointment's planned number.")
    note: str | None = Field(None, description="Short clinician note; kept out of logs.")


class ClientContext(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field("client", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    treatment_start: dt.date | None = None
    history_neglect_or_abuse: bool = False
    fragile: bool = False
    sensitivity: Literal["low", "normal", "high"] = "normal"
    therapists: list[str] = Field(default_factory=list)
    transcripts: str | None = Field(None, description="Transcript folder relative to the file.")
    instruments: str | None = Field(None, description="Folder of the clinic's own instruments.")
    events: list[Event] = Field(default_factory=list)

    @field_validator("events")
    @classmethod
    def _sorted(cls, events: list[Event]) -> list[Event]:
        return sorted(events, key=lambda e: e.date)


def load_context(path: Path) -> ClientContext:
    """Read and validate ``client.toml``; errors name the file and field."""
    where = path.name  # not the full path: folder names may hold a client's name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"cannot read ({exc.strerror})", where=where) from None
    context: ClientContext = validate(ClientContext, load_toml(data, where), where)
    return context
