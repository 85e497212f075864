"""Retention: how much of a session the store keeps once its analysis is stored.

Three levels, set as the clinic's default (``clinic_settings.retention``) and, if wanted,
per client (``clients.retention``; NULL = the clinic's default):

* ``keep`` — everything: the uploaded transcript (encrypted), the analysis with the
  words of every utterance, the uploaded file name.
* ``delete_transcript`` — the uploaded transcript is deleted in the same transaction that
  stores the analysis; the analysis (with the words) stays, so the review page and the
  course are unchanged. The session cannot be re-analyzed from the original file.
* ``codes_only`` — also the words: every utterance's text, every evidence quote and every
  annotation note in the stored analysis become :data:`TEXT_NOT_KEPT`, the session's
  source file name is dropped and the stored upload name becomes ``transcript.<ext>``.
  Kept: codes, probabilities, levels, timestamps, speakers and roles, features, metrics,
  episodes (kind, span, salience, resolution, flags, observational summary, suggested
  repair moves), so the review page, the caseload and the course still work.

Levels only tighten what is stored: moving a client from ``codes_only`` back to ``keep``
cannot bring the words back. Tightening a level applies to the already-analyzed sessions
at once, in the transaction that saves the setting; the worker applies it to each new
result in the transaction that stores it (:func:`apply_to_job`). Questionnaire answers
(including the rupture check's free-text note) are not touched by these levels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from attunement.store.repo import InputError, clinic_settings
from attunement.store.tables import Client, Job, TherapySession

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as DbSession

    from attunement.store.crypto import Keyring

LEVELS = ("keep", "delete_transcript", "codes_only")
LABELS = {
    "keep": "keep everything",
    "delete_transcript": "delete the uploaded transcript after analysis",
    "codes_only": "keep codes only (no words)",
}
TEXT_NOT_KEPT = "(text not kept)"
#: recorded in the session JSON's ``provenance`` when the words were removed
PROVENANCE = "retention:codes_only"
RESULT = "therapy_sessions.result"
FILENAME = "therapy_sessions.filename"


def check_level(value: str, where: str = "retention") -> str:
    if value not in LEVELS:
        raise InputError(f"must be one of {', '.join(LEVELS)}", where=where)
    return value


def rank(level: str) -> int:
    return LEVELS.index(level)


def effective(db: DbSession, client_id: int) -> str:
    """The client's own level, else the clinic's default."""
    own = db.scalar(select(Client.retention).where(Client.id == client_id))
    return own or clinic_settings(db).retention or "keep"


def strip_words(result_json: str) -> str:
    """The session JSON with every utterance text, quote and note replaced."""
    from attunement.model import Session

    session = Session.model_validate_json(result_json)
    for u in session.utterances:
        u.text = TEXT_NOT_KEPT
        u.meta = {}
        for a in u.annotations:
            a.note = None
    for ep in session.episodes:
        for ev in (*ep.markers, *ep.contribution, *ep.repairs, *ep.resolution_evidence):
            ev.quote = TEXT_NOT_KEPT
    session.source = None
    if PROVENANCE not in session.provenance:
        session.provenance.append(PROVENANCE)
    return session.model_dump_json()


def _generic_name(keys: Keyring, row: TherapySession) -> bytes:
    name = keys.decrypt_text(row.filename_enc, FILENAME)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "txt"
    ext = ext if ext.isalnum() and len(ext) <= 8 else "txt"
    return keys.encrypt_text(f"transcript.{ext}", FILENAME)


def apply(db: DbSession, keys: Keyring, row: TherapySession, level: str) -> bool:
    """Apply ``level`` to one analyzed session (no-op before its result is stored);
    True when something was removed."""
    if row.result_enc is None or level == "keep":
        return False
    changed = row.transcript_enc is not None
    row.transcript_enc = None
    if level == "codes_only":
        from attunement.model import Session

        text = keys.decrypt_text(row.result_enc, RESULT)
        if PROVENANCE not in Session.model_validate_json(text).provenance:
            row.result_enc = keys.encrypt_text(strip_words(text), RESULT)
            row.filename_enc = _generic_name(keys, row)
            changed = True
    return changed


def apply_to_job(db: DbSession, keys: Keyring, job_id: int) -> None:
    """After the worker stored a job's result (same transaction)."""
    job = db.get(Job, job_id)
    row = db.get(TherapySession, job.session_id) if job is not None else None
    if row is not None:
        apply(db, keys, row, effective(db, row.client_id))


def apply_to_client(db: DbSession, keys: Keyring, client_id: int) -> int:
    """Apply the client's effective level to all their analyzed sessions; the count of
    sessions changed."""
    level = effective(db, client_id)
    rows = db.scalars(
        select(TherapySession).where(
            TherapySession.client_id == client_id, TherapySession.result_enc.is_not(None)
        )
    ).all()
    return sum(apply(db, keys, row, level) for row in rows)


def apply_to_clinic(db: DbSession, keys: Keyring) -> int:
    """After the clinic default changed: every client who follows the default."""
    ids = db.scalars(select(Client.id).where(Client.retention.is_(None))).all()
    return sum(apply_to_client(db, keys, cid) for cid in ids)


def set_client_level(db: DbSession, keys: Keyring, client_id: int, level: str | None) -> int:
    """``level`` None: follow the clinic's default. Applied at once (this transaction)."""
    row = db.get(Client, client_id)
    assert row is not None
    row.retention = check_level(level) if level is not None else None
    db.flush()
    return apply_to_client(db, keys, client_id)


def set_clinic_level(db: DbSession, keys: Keyring, level: str) -> int:
    clinic_settings(db).retention = check_level(level)
    db.flush()
    return apply_to_clinic(db, keys)


def describe(level: str) -> str:
    return LABELS.get(level, level)
