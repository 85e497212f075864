"""Tables for cases (see the migration of the same name). Registered on
:class:`attunement.store.tables.Base` when :mod:`attunement.store.tables` is imported."""

from __future__ import annotations

from attunement.store.tables import Base

__all__ = ["Base"]
