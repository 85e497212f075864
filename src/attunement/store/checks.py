"""Client check links, questionnaire answers and safety alerts (the SQL side).

A link is created by a clinician for one client and one instrument; the raw token goes
into the URL and is shown once, the table keeps only its SHA-256. A link opens while it
is unused and unexpired; submitting it sets ``used_at`` with a conditional UPDATE, so two
submissions racing each other store one response. Answers are validated against the
library's instrument definition and stored as encrypted JSON; a risk item the instrument
flags (``[[flags]]``, e.g. PHQ-9 item 9 at 1 or more) opens a safety alert.
In a case with members (``attunement.store.cases``) a link and its answers may belong to
one member (``member_id``); without one they are the client's, as before.
Score-only shells (SRS, ORS) are entered as four 0–10 scores with one decimal.
Nothing here decides who may do what (``attunement.web.permissions`` does).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from attunement.store.repo import InputError
from attunement.store.tables import CheckLink, CheckResponse, SafetyAlert, aware, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.measures.instruments import Instrument
    from attunement.measures.responses import Administration
    from attunement.store.crypto import Keyring

#: the questionnaires with their own wording (ids of the bundled definitions)
CHECK_INSTRUMENTS = ("alliance_check", "rupture_check", "phq9", "gad7")
#: licensed scales recorded as scores only (the clinic's paper form; no wording stored)
SCORE_SHELLS = ("srs", "ors")
DEFAULT_HOURS = 72
MAX_HOURS = 24 * 14
MAX_TEXT = 1000
ANSWERS = "check_responses.answers"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def instruments() -> dict[str, Instrument]:
    from attunement.measures.instruments import bundled_instruments

    found = bundled_instruments()
    return {i: found[i] for i in CHECK_INSTRUMENTS + SCORE_SHELLS if i in found}


def create_link(
    db: Session,
    *,
    client_id: int,
    created_by: int,
    instrument: str,
    session_number: int,
    hours: int = DEFAULT_HOURS,
    member_id: int | None = None,
) -> tuple[str, CheckLink]:
    """A new link; the token is returned once (for the URL) and stored hashed.
    ``member_id`` must be an active member of the client's case (or None)."""
    if instrument not in instruments():
        raise InputError(f"must be one of {', '.join(instruments())}", where="instrument")
    _check_member(db, client_id, member_id)
    if not 0 <= session_number <= 10_000:
        raise InputError("must be between 0 and 10000", where="session number")
    if not 1 <= hours <= MAX_HOURS:
        raise InputError(f"must be between 1 and {MAX_HOURS}", where="hours")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = CheckLink(
        client_id=client_id,
        created_by=created_by,
        instrument=instrument,
        session_number=session_number,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
        member_id=member_id,
    )
    db.add(row)
    db.flush()
    return token, row


def _check_member(db: Session, client_id: int, member_id: int | None) -> None:
    from attunement.store import cases

    if member_id is not None and not cases.is_active_member(db, client_id, member_id):
        raise InputError("not a person in this case", where="for whom")


def open_link(db: Session, token: str) -> CheckLink | None:
    """The link for ``token`` if it is unused and unexpired, else None (one answer for
    unknown, used and expired links, so a token cannot be probed)."""
    if not token or len(token) > 100:
        return None
    row = db.scalars(select(CheckLink).where(CheckLink.token_hash == _hash(token))).first()
    if row is None or row.used_at is not None or aware(row.expires_at) <= utcnow():
        return None
    return row


def link_state(link: CheckLink) -> str:
    if link.used_at is not None:
        return "answered"
    return "expired" if aware(link.expires_at) <= utcnow() else "open"


def links_of(db: Session, client_id: int) -> list[CheckLink]:
    return list(
        db.scalars(
            select(CheckLink).where(CheckLink.client_id == client_id).order_by(CheckLink.id)
        ).all()
    )


def validate_answers(
    instrument: Instrument, raw: Mapping[str, str]
) -> tuple[dict[str, float], dict[str, str]]:
    """Form values → (choice answers, text answers); errors name the item, never a value.
    Every non-optional choice item must be answered."""
    answers: dict[str, float] = {}
    texts: dict[str, str] = {}
    for item in instrument.items:
        value = (raw.get(item.id) or "").strip()
        if item.type == "text":
            if len(value) > MAX_TEXT:
                raise InputError(f"at most {MAX_TEXT} characters", where=item.id)
            if value:
                texts[item.id] = value
            continue
        if not value:
            if item.optional:
                continue
            raise InputError("please choose an answer", where=item.id)
        if item.type == "scale":
            answers[item.id] = _scale_value(instrument, value, item.id)
            continue
        allowed = {f"{o.value:g}": o.value for o in instrument.options_for(item)}
        if value not in allowed:
            raise InputError("not one of the choices", where=item.id)
        answers[item.id] = allowed[value]
    return answers, texts


def _scale_value(instrument: Instrument, value: str, where: str) -> float:
    """A score-only item: a number on the instrument's scale ("7.5" or "7,5")."""
    scale = instrument.scale
    assert scale is not None  # the instrument file's validation guarantees it
    try:
        number = round(float(value.replace(",", ".")), 6)
    except ValueError:
        number = float("nan")
    if not scale.allows(number):  # NaN is never allowed
        raise InputError(
            f"a number from {scale.min:g} to {scale.max:g} in steps of {scale.step:g}", where=where
        )
    return number


def add_response(
    db: Session,
    keys: Keyring,
    *,
    client_id: int,
    instrument: Instrument,
    session_number: int,
    date: dt.date,
    answers: Mapping[str, float],
    texts: Mapping[str, str] | None = None,
    link_id: int | None = None,
    member_id: int | None = None,
) -> tuple[int, list[SafetyAlert]]:
    """Store one administration (encrypted); open an alert per flagged risk item."""
    if link_id is None:  # a link's member was checked when the link was made
        _check_member(db, client_id, member_id)
    body = json.dumps({"answers": dict(answers), "texts": dict(texts or {})}, sort_keys=True)
    row = CheckResponse(
        client_id=client_id,
        link_id=link_id,
        instrument=instrument.id,
        session_number=session_number,
        date=date,
        answers_enc=keys.encrypt_text(body, ANSWERS),
        member_id=member_id,
    )
    db.add(row)
    db.flush()
    alerts = [
        SafetyAlert(
            client_id=client_id, response_id=row.id, instrument=instrument.id, item=flag.item
        )
        for flag in instrument.flags
        if answers.get(flag.item, float("-inf")) >= flag.at_least
    ]
    db.add_all(alerts)
    db.flush()
    return row.id, alerts


def submit(
    db: Session, keys: Keyring, link: CheckLink, raw: Mapping[str, str]
) -> tuple[int, list[SafetyAlert]]:
    """Validate and store the answers of an open link and use it up, in one transaction.
    Raises InputError for invalid answers (nothing is stored, the link stays open)."""
    instrument = instruments()[link.instrument]
    answers, texts = validate_answers(instrument, raw)
    used = db.execute(
        update(CheckLink)
        .where(CheckLink.id == link.id, CheckLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if getattr(used, "rowcount", 0) != 1:
        raise InputError("this link has already been used", where="link")
    return add_response(
        db,
        keys,
        client_id=link.client_id,
        instrument=instrument,
        session_number=link.session_number,
        date=utcnow().date(),
        answers=answers,
        texts=texts,
        link_id=link.id,
        member_id=link.member_id,
    )


def administrations(db: Session, keys: Keyring, client_id: int) -> list[Administration]:
    """The client's answers as the library's administrations (for ``attunement.course``),
    everyone's in a case with members (see :func:`member_administrations`)."""
    return [a for _member, a in member_administrations(db, keys, client_id)]


def member_administrations(
    db: Session, keys: Keyring, client_id: int
) -> list[tuple[int | None, Administration]]:
    """(member id or None, administration) for every stored answer set, oldest first."""
    from attunement.measures.responses import Administration

    rows = db.scalars(
        select(CheckResponse)
        .where(CheckResponse.client_id == client_id)
        .order_by(CheckResponse.date, CheckResponse.id)
    ).all()
    out = []
    for r in rows:
        body = json.loads(keys.decrypt_text(r.answers_enc, ANSWERS))
        adm = Administration(
            session=r.session_number,
            date=r.date,
            instrument=r.instrument,
            answers=body["answers"],
            texts=body["texts"],
        )
        out.append((r.member_id, adm))
    return out


@dataclass
class AlertView:
    id: int
    client_id: int
    instrument: str
    item: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None


def _view(a: SafetyAlert) -> AlertView:
    return AlertView(a.id, a.client_id, a.instrument, a.item, a.created_at, a.acknowledged_at)


def alerts_of(
    db: Session, client_ids: Collection[int], *, open_only: bool = True
) -> list[AlertView]:
    if not client_ids:
        return []
    q = select(SafetyAlert).where(SafetyAlert.client_id.in_(list(client_ids)))
    if open_only:
        q = q.where(SafetyAlert.acknowledged_at.is_(None))
    return [_view(a) for a in db.scalars(q.order_by(SafetyAlert.id)).all()]


def open_alert_count(db: Session, therapist_ids: Collection[int]) -> int:
    """Open safety alerts of the clients of ``therapist_ids`` (a count: no identities)."""
    from sqlalchemy import func

    from attunement.store.tables import Client

    if not therapist_ids:
        return 0
    q = (
        select(func.count())
        .select_from(SafetyAlert)
        .join(Client, Client.id == SafetyAlert.client_id)
        .where(Client.therapist_id.in_(list(therapist_ids)), SafetyAlert.acknowledged_at.is_(None))
    )
    return int(db.scalar(q) or 0)


def alert_client(db: Session, alert_id: int) -> int | None:
    return db.scalar(select(SafetyAlert.client_id).where(SafetyAlert.id == alert_id))


def acknowledge(db: Session, alert_id: int, user_id: int) -> bool:
    """Close an open alert; False when it was already acknowledged."""
    done = db.execute(
        update(SafetyAlert)
        .where(SafetyAlert.id == alert_id, SafetyAlert.acknowledged_at.is_(None))
        .values(acknowledged_at=utcnow(), acknowledged_by=user_id)
    )
    return getattr(done, "rowcount", 0) == 1
