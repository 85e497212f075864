"""Background analysis jobs: claim, progress, finish, fail, recover after a crash.

A job moves ``queued → running → done | failed``. Claiming is one conditional UPDATE
(``WHERE status = 'queued'``), so two workers never run the same job. Results are written
in one transaction with the job's ``done`` state: a crash mid-analysis leaves the job
``running`` with no result, and :func:`recover` (called when a worker starts) puts it
back in the queue, up to :data:`MAX_ATTEMPTS`, after which it is marked failed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from attunement.store.tables import Job, TherapySession, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.store.crypto import Keyring

MAX_ATTEMPTS = 3


def recover(db: Session) -> int:
    """Jobs left ``running`` by a crashed process: requeue, or fail after MAX_ATTEMPTS."""
    stale = db.scalars(select(Job).where(Job.status == "running")).all()
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.error, job.finished_at = "failed", "stopped too often", utcnow()
        else:
            job.status, job.progress, job.step = "queued", 0, ""
    return len(stale)


def claim(db: Session) -> int | None:
    """Take the oldest queued job; its id, or None when the queue is empty."""
    job_id = db.scalar(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(1))
    if job_id is None:
        return None
    done = db.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=utcnow(), attempts=Job.attempts + 1, progress=1)
    )
    return job_id if getattr(done, "rowcount", 0) == 1 else None


def transcript(db: Session, keys: Keyring, job_id: int) -> tuple[bytes, str, dict[str, Any]]:
    """The job's transcript bytes, file name and session facts (number, date)."""
    job = db.get(Job, job_id)
    assert job is not None
    s = db.get(TherapySession, job.session_id)
    assert s is not None and s.transcript_enc is not None
    meta: dict[str, Any] = {"client_id": f"client-{s.client_id}"}
    if s.number is not None:
        meta["session_number"] = s.number
    if s.date is not None:
        meta["date"] = s.date
    return (
        keys.decrypt(s.transcript_enc, "therapy_sessions.transcript"),
        keys.decrypt_text(s.filename_enc, "therapy_sessions.filename"),
        meta,
    )


def progress(db: Session, job_id: int, percent: int, step: str) -> None:
    db.execute(
        update(Job).where(Job.id == job_id).values(progress=max(1, min(percent, 99)), step=step)
    )


def finish(
    db: Session, keys: Keyring, job_id: int, result_json: str, summary: dict[str, Any]
) -> None:
    job = db.get(Job, job_id)
    assert job is not None
    s = db.get(TherapySession, job.session_id)
    assert s is not None
    s.result_enc = keys.encrypt_text(result_json, "therapy_sessions.result")
    s.summary_enc = keys.encrypt_text(json.dumps(summary), "therapy_sessions.summary")
    job.status, job.progress, job.step, job.finished_at = "done", 100, "", utcnow()


def fail(db: Session, job_id: int, message: str) -> None:
    """``message`` must be safe to show: the caller passes an error's where/what only."""
    job = db.get(Job, job_id)
    assert job is not None
    job.status, job.error, job.finished_at = "failed", message[:300], utcnow()


def counts(db: Session) -> dict[str, int]:
    rows = db.execute(select(Job.status, Job.id)).all()
    out: dict[str, int] = {}
    for status, _ in rows:
        out[status] = out.get(status, 0) + 1
    return out
