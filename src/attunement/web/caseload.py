"""The caseload: clients ordered by what needs the clinician's attention.

The order, most urgent first:

1. open safety alerts (a risk item endorsed in a client's check, until acknowledged);
2. the client's course alerts of priority ``high`` (``attunement.course``: an episode
   unresolved over sessions, therapy ended with a rupture open, a high dropout warning, a
   therapist-missed appointment weighed up by the client's context);
3. flags on the latest analyzed session's episodes (escalation, termination risk,
   boundary pressure), then its rupture episodes not repaired;
4. course alerts of priority ``medium`` (an episode open or being worked through, an
   outcome reliably worse, a sudden loss);
5. failed analyses, analyses in progress; clients without sessions last.

Course alerts of kind ``safety`` (a questionnaire's risk item) are left out here: the
app's safety alert for the same answer is rank 1 and ends when a clinician acknowledges
it, which a course alert cannot. Low-priority course alerts (something already repaired)
are not reasons for attention. The row shows each reason in words, the course alerts in
the library's own text. Nothing is scored here; this only sorts and words it.

Cost: computing every client's course on each load took ~4 s for 40 clients with 8
sessions of ~200 turns; the alerts are therefore cached per client and recomputed only
when something stored about the client changed (:mod:`attunement.web.course_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from attunement.store import repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.course.model import Alert
    from attunement.store.crypto import Keyring

#: episode flags, most urgent first (``attunement.model.episode.Episode.flags``)
FLAG_ORDER = ("ESCALATE", "TERMINATION_RISK", "BOUNDARY_PRESSURE")
FLAG_TEXT = {
    "ESCALATE": "escalation flagged",
    "TERMINATION_RISK": "risk of ending therapy",
    "BOUNDARY_PRESSURE": "boundary pressure",
}
#: course alert kinds the caseload leaves to the app's own safety alerts
SKIP_KINDS = frozenset({"safety"})


@dataclass
class CaseRow:
    client: repo.ClientView
    sessions: int
    latest: repo.SessionView | None
    reasons: list[str] = field(default_factory=list)
    rank: tuple[int, ...] = ()
    level: str = ""  # "urgent" | "attention" | "" (the row's colour)

    def public(self) -> dict[str, object]:
        return {
            "client": self.client.public(),
            "sessions": self.sessions,
            "latest_session_id": self.latest.id if self.latest else None,
            "reasons": self.reasons,
            "level": self.level,
        }


def attention_alerts(alerts: list[Alert]) -> tuple[list[str], list[str]]:
    """The texts of the course alerts that count for the caseload: (high, medium)."""
    counted = [a for a in alerts if a.kind not in SKIP_KINDS]
    high = [a.text for a in counted if a.priority == "high"]
    medium = [a.text for a in counted if a.priority == "medium"]
    return high, medium


def _row(
    client: repo.ClientView,
    sessions: list[repo.SessionView],
    safety: int = 0,
    course: tuple[list[str], list[str]] = ([], []),
) -> CaseRow:
    high, medium = course
    analyzed = [s for s in sessions if s.job_status == "done"]
    latest = analyzed[-1] if analyzed else None
    summary = latest.summary if latest else {}
    flags = [f for f in FLAG_ORDER if f in summary.get("flags", [])]
    open_eps = int(summary.get("open_episodes", 0))
    failed = sum(s.job_status == "failed" for s in sessions)
    pending = sum(s.job_status in ("queued", "running") for s in sessions)
    reasons = [f"safety alert: {safety} answer{'s' * (safety != 1)} to review"] if safety else []
    reasons += high
    reasons += [FLAG_TEXT[f] for f in flags]
    if open_eps:
        reasons.append(f"{open_eps} rupture episode{'s' * (open_eps != 1)} not yet repaired")
    reasons += medium
    if failed:
        reasons.append(f"{failed} analysis failed")
    if pending:
        reasons.append(f"{pending} analysis in progress")
    if not sessions:
        reasons.append("no session uploaded yet")
    urgency = min((FLAG_ORDER.index(f) for f in flags), default=len(FLAG_ORDER))
    rank = (
        -safety,
        -len(high),
        urgency,
        -open_eps,
        -len(medium),
        -failed,
        -pending,
        int(not sessions),
    )
    level = "urgent" if safety or high or flags else "attention" if open_eps or medium else ""
    return CaseRow(client, len(sessions), latest, reasons, rank, level)


def caseload(db: Session, keys: Keyring, therapist_ids: set[int]) -> list[CaseRow]:
    from collections import Counter

    from attunement.store import checks
    from attunement.web.course_cache import course_alerts

    clients = repo.clients_of(db, keys, therapist_ids)
    safety = Counter(a.client_id for a in checks.alerts_of(db, [c.id for c in clients]))
    course = course_alerts(db, keys, clients)
    rows = []
    by_client = repo.sessions_of_many(db, keys, [c.id for c in clients])
    for c in clients:
        sessions = by_client[c.id]
        rows.append(_row(c, sessions, safety[c.id], attention_alerts(course[c.id])))
    return sorted(rows, key=lambda r: (r.rank, r.client.pseudonym.casefold(), r.client.id))
