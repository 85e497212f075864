"""Alembic environment: the engine comes from :func:`attunement.store.engine.migrate`."""

from __future__ import annotations

from alembic import context

from attunement.store.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
