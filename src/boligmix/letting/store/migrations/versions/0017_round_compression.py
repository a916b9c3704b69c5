"""Compact round rows compressed with lz4 (PostgreSQL).

A round's trail row (`decisions.facts`, outcome `round`) holds some 70 kB of JSON with 2,000
candidates; PostgreSQL compresses it when it stores it out of line (TOAST). Its default method,
pglz, spent about 1.2 ms of database CPU per row (200 rows of 71 kB: 230-270 ms; lz4: 57-60 ms,
to about the same size, 10.9 against 11.1 kB), once per offer round. The column's compression
becomes lz4 where the server supports it (PostgreSQL 14+ built with lz4, as Debian's packages
are); values stored before stay as they are (PostgreSQL reads both). SQLite: nothing to do.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _lz4_supported() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    return bool(bind.execute(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")).scalar())


def upgrade() -> None:
    if _lz4_supported():
        op.execute("ALTER TABLE decisions ALTER COLUMN facts SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TABLE decisions ALTER COLUMN facts SET COMPRESSION DEFAULT")
