"""Compact offer rounds: the `round` outcome (one `decisions` row per offer round, see `store.trail`).

Widens `ck_decisions_outcome` by `round` (on SQLite the table is recreated in batch mode, as in
0006, with the append-only triggers created again). Rows written one per candidate before this
revision stay as they are: `store.trail.expand` reads both forms.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_0006 = importlib.import_module('boligmix.letting.store.migrations.versions.0006_redirects_reactivation')
OLD_OUTCOMES = _0006.NEW_OUTCOMES
NEW_OUTCOMES = OLD_OUTCOMES + ('round',)


def upgrade() -> None:
    _0006._set_outcomes(NEW_OUTCOMES)


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT count(*) FROM decisions WHERE outcome = 'round'")).scalar():
        raise RuntimeError("compact round records exist; the downgrade to 0015 would have to expand them")
    _0006._set_outcomes(OLD_OUTCOMES)
