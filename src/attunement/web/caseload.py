"""The caseload: clients ordered by what needs the clinician's attention.

Open safety alerts (a risk item endorsed in a client's check) come first. Then attention
is read off what the library already computed for each client's latest
analyzed session (the stored summary: open episodes, episode flags such as ESCALATE or
TERMINATION_RISK) and off the job states (a failed analysis needs a look too). Nothing
is scored here; this only sorts and words it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from attunement.store import repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.store.crypto import Keyring

#: episode flags, most urgent first (``attunement.model.episode.Episode.flags``)
FLAG_ORDER = ("ESCALATE", "TERMINATION_RISK", "BOUNDARY_PRESSURE")
FLAG_TEXT = {
    "ESCALATE": "escalation flagged",
    "TERMINATION_RISK": "risk of ending therapy",
    "BOUNDARY_PRESSURE": "boundary pressure",
}


@dataclass
class CaseRow:
    client: repo.ClientView
    sessions: int
    latest: repo.SessionView | None
    reasons: list[str] = field(default_factory=list)
    rank: tuple[int, ...] = ()

    def public(self) -> dict[str, object]:
        return {
            "client": self.client.public(),
            "sessions": self.sessions,
            "latest_session_id": self.latest.id if self.latest else None,
            "reasons": self.reasons,
        }


def _row(client: repo.ClientView, sessions: list[repo.SessionView], safety: int = 0) -> CaseRow:
    analyzed = [s for s in sessions if s.job_status == "done"]
    latest = analyzed[-1] if analyzed else None
    summary = latest.summary if latest else {}
    flags = [f for f in FLAG_ORDER if f in summary.get("flags", [])]
    open_eps = int(summary.get("open_episodes", 0))
    failed = sum(s.job_status == "failed" for s in sessions)
    pending = sum(s.job_status in ("queued", "running") for s in sessions)
    reasons = [f"safety alert: {safety} answer{'s' * (safety != 1)} to review"] if safety else []
    reasons += [FLAG_TEXT[f] for f in flags]
    if open_eps:
        reasons.append(f"{open_eps} rupture episode{'s' * (open_eps != 1)} not yet repaired")
    if failed:
        reasons.append(f"{failed} analysis failed")
    if pending:
        reasons.append(f"{pending} analysis in progress")
    if not sessions:
        reasons.append("no session uploaded yet")
    urgency = min((FLAG_ORDER.index(f) for f in flags), default=len(FLAG_ORDER))
    rank = (-safety, urgency, -open_eps, -failed, -pending, int(not sessions))
    return CaseRow(client, len(sessions), latest, reasons, rank)


def caseload(db: Session, keys: Keyring, therapist_ids: set[int]) -> list[CaseRow]:
    from collections import Counter

    from attunement.store import checks

    clients = repo.clients_of(db, keys, therapist_ids)
    safety = Counter(a.client_id for a in checks.alerts_of(db, [c.id for c in clients]))
    rows = [_row(c, repo.sessions_of(db, keys, c.id), safety[c.id]) for c in clients]
    return sorted(rows, key=lambda r: (r.rank, r.client.pseudonym.casefold(), r.client.id))
