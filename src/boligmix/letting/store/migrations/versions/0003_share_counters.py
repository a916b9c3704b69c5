"""Channel-share counters (kommunal anvisning 1/4, agreed shares, rehousing, fleksibel).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'share_counters',
        sa.Column('policy_id', sa.String(length=200), nullable=False),
        sa.Column('scope_key', sa.String(length=100), nullable=False),
        sa.Column('count_per', sa.String(length=16), nullable=False),
        sa.Column('policy_version', sa.String(length=50), nullable=False),
        sa.Column('seen', sa.Integer(), nullable=False),
        sa.Column('used', sa.JSON(), nullable=False),
        sa.CheckConstraint('seen >= 0', name=op.f('ck_share_counters_seen_nonnegative')),
        sa.PrimaryKeyConstraint('policy_id', 'scope_key', name=op.f('pk_share_counters')),
    )


def downgrade() -> None:
    op.drop_table('share_counters')
