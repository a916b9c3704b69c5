"""Passive status of waiting-list entries after repeated refusals (`applicants.passive_since`).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('applicants', sa.Column('passive_since', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.drop_column('passive_since')
