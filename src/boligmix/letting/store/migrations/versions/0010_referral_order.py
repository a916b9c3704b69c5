"""The municipality's own order of its referrals and rehousing households (`applicants.referral_order`).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('applicants', sa.Column('referral_order', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.drop_column('referral_order')
