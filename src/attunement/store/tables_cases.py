"""Tables for cases (migration ``v0004``). Registered on
:class:`attunement.store.tables.Base` when :mod:`attunement.store.tables` is imported.

A client is a case. A case with no members is one person, as before; members make it a
couple, family or group case: each member has an encrypted label (e.g. "Partner A"), a
role and an optional age band (the ORS cutoff depends on it), gets their own check links
and their own answers (``check_links.member_id``, ``check_responses.member_id``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from attunement.store.tables import Base, utcnow

MEMBER_ROLES = ("client", "partner", "parent", "child", "member")
AGE_BANDS = ("adult", "adolescent", "child")

__all__ = ["AGE_BANDS", "MEMBER_ROLES", "Base", "CaseMember"]


class CaseMember(Base):
    """One person in a couple, family or group case."""

    __tablename__ = "case_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    label_enc: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(16), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
