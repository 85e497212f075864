"""Check links nobody has answered yet: open (unused, unexpired) and expired unused.

For the "who has not completed their check" list. The caller passes the therapist ids
whose clients the user may see (``attunement.web.permissions.visible_therapists``);
pseudonyms and member labels are decrypted here, so the caller must audit the read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from attunement.store.tables import CheckLink, Client, aware, utcnow
from attunement.store.tables_cases import CaseMember

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.store.crypto import Keyring

State = Literal["open", "expired", "all"]
Sort = Literal["oldest", "expires", "client"]
STATES: tuple[State, ...] = ("open", "expired", "all")
SORTS: tuple[Sort, ...] = ("oldest", "expires", "client")


@dataclass(frozen=True)
class PendingLink:
    link_id: int
    client_id: int
    client: str
    member_id: int | None
    member: str | None
    instrument: str
    session_number: int
    sent: dt.datetime
    expires: dt.datetime
    state: Literal["open", "expired"]
    days_waiting: int


def pending_links(
    db: Session,
    keys: Keyring,
    therapist_ids: Collection[int],
    *,
    state: State = "all",
    instrument: str | None = None,
    sort: Sort = "oldest",
    client_id: int | None = None,
) -> list[PendingLink]:
    """Unused links of the clients of ``therapist_ids`` (optionally one client)."""
    if not therapist_ids:
        return []
    now = utcnow()
    q = (
        select(CheckLink, Client.pseudonym_enc, CaseMember.label_enc)
        .join(Client, Client.id == CheckLink.client_id)
        .outerjoin(CaseMember, CaseMember.id == CheckLink.member_id)
        .where(Client.therapist_id.in_(list(therapist_ids)), CheckLink.used_at.is_(None))
    )
    if client_id is not None:
        q = q.where(CheckLink.client_id == client_id)
    if instrument:
        q = q.where(CheckLink.instrument == instrument)
    if state == "open":
        q = q.where(CheckLink.expires_at > now)
    elif state == "expired":
        q = q.where(CheckLink.expires_at <= now)
    out = []
    for link, pseudonym_enc, label_enc in db.execute(q).all():
        expires = aware(link.expires_at)
        sent = aware(link.created_at)
        out.append(
            PendingLink(
                link_id=link.id,
                client_id=link.client_id,
                client=keys.decrypt_text(pseudonym_enc, "clients.pseudonym"),
                member_id=link.member_id,
                member=keys.decrypt_text(label_enc, "case_members.label") if label_enc else None,
                instrument=link.instrument,
                session_number=link.session_number,
                sent=sent,
                expires=expires,
                state="open" if expires > now else "expired",
                days_waiting=(now - sent).days,
            )
        )
    keyed = {
        "oldest": lambda p: (p.sent, p.link_id),
        "expires": lambda p: (p.state != "open", p.expires, p.link_id),
        "client": lambda p: (p.client.casefold(), p.member or "", p.sent, p.link_id),
    }
    return sorted(out, key=keyed[sort])
