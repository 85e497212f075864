"""People in a case (the SQL side): couples, family and group clients.

A client is a case; a case without members is one person, exactly as before. Members
have an encrypted label ("Partner A", column ``case_members.label`` bound as associated
data), a role and an optional age band; they are deactivated, never deleted. The case's
kind is derived from its active members. Nothing here decides who may do what
(``attunement.web.permissions`` does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from attunement.store.repo import InputError, check_name
from attunement.store.tables_cases import AGE_BANDS, MEMBER_ROLES, CaseMember

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from attunement.store.crypto import Keyring

LABEL = "case_members.label"
MAX_LABEL = 40
MAX_MEMBERS = 20


@dataclass(frozen=True)
class MemberView:
    id: int
    client_id: int
    label: str
    role: str
    age_band: str | None
    active: bool
    created_at: dt.datetime

    def public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "label": self.label,
            "role": self.role,
            "age_band": self.age_band,
            "active": self.active,
        }


def check_label(label: str) -> str:
    return check_name(label, "label", MAX_LABEL)


def add_member(
    db: Session,
    keys: Keyring,
    *,
    client_id: int,
    label: str,
    role: str,
    age_band: str | None = None,
) -> MemberView:
    label = check_label(label)
    if role not in MEMBER_ROLES:
        raise InputError(f"must be one of {', '.join(MEMBER_ROLES)}", where="role")
    if age_band is not None and age_band not in AGE_BANDS:
        raise InputError(f"must be one of {', '.join(AGE_BANDS)}", where="age band")
    if len(members_of(db, keys, client_id)) >= MAX_MEMBERS:
        raise InputError(f"a case has at most {MAX_MEMBERS} people", where="label")
    row = CaseMember(
        client_id=client_id,
        label_enc=keys.encrypt_text(label, LABEL),
        role=role,
        age_band=age_band,
        active=True,
    )
    db.add(row)
    db.flush()
    return _view(keys, row)


def _view(keys: Keyring, m: CaseMember) -> MemberView:
    return MemberView(
        id=m.id,
        client_id=m.client_id,
        label=keys.decrypt_text(m.label_enc, LABEL),
        role=m.role,
        age_band=m.age_band,
        active=m.active,
        created_at=m.created_at,
    )


def members_of(
    db: Session, keys: Keyring, client_id: int, *, active_only: bool = False
) -> list[MemberView]:
    q = select(CaseMember).where(CaseMember.client_id == client_id)
    if active_only:
        q = q.where(CaseMember.active.is_(True))
    return [_view(keys, m) for m in db.scalars(q.order_by(CaseMember.id)).all()]


def member_client(db: Session, member_id: int) -> int | None:
    return db.scalar(select(CaseMember.client_id).where(CaseMember.id == member_id))


def is_active_member(db: Session, client_id: int, member_id: int) -> bool:
    found = db.scalar(
        select(CaseMember.id).where(
            CaseMember.id == member_id,
            CaseMember.client_id == client_id,
            CaseMember.active.is_(True),
        )
    )
    return found is not None


def deactivate(db: Session, member_id: int) -> bool:
    """False when the member was already inactive. Their answers stay in the course."""
    done = db.execute(
        update(CaseMember)
        .where(CaseMember.id == member_id, CaseMember.active.is_(True))
        .values(active=False)
    )
    return getattr(done, "rowcount", 0) == 1


def case_kind(members: list[MemberView]) -> str:
    """individual, couple, family or group — from the active members' roles."""
    active = [m for m in members if m.active]
    roles = {m.role for m in active}
    if len(active) <= 1:
        return "individual"
    if roles & {"parent", "child"}:
        return "family"
    if len(active) == 2 and roles <= {"partner", "client"}:
        return "couple"
    return "group"
