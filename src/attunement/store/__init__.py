"""Storage for the clinic app: the only package that knows SQL.

``tables`` (SQLAlchemy 2 models), ``engine`` (SQLite/PostgreSQL, Alembic migrations),
``crypto`` (AES-GCM at rest), ``audit`` (append-only, hash-chained), ``repo`` (users,
clients, sessions), ``jobs`` and ``worker`` (background analysis), ``rotate`` (keys).
Needs the ``web`` extra; nothing is imported here so the package stays cheap to find.
"""
