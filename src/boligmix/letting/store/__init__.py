"""The letting store: SQLAlchemy models, Alembic migrations, transactions and the letting service.

SQLite is the embedded default (one file, writes serialised); PostgreSQL is the multi-user store
(row locks). See `docs/letting-service.md`.
"""
