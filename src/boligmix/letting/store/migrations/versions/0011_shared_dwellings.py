"""Deleboliger as units: `shared_dwellings` and the rooms' `dwellings.shared_dwelling_id`.

On SQLite `dwellings` is recreated in batch mode to add the foreign key (other tables refer to it,
so `migrate.upgrade` runs the migration with SQLite's foreign keys off and checks them before the
commit).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'shared_dwellings',
        sa.Column('shared_dwelling_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('department_id', sa.String(length=64), nullable=False),
        sa.Column('rooms', sa.Integer(), nullable=False),
        sa.Column('floor_area_m2', sa.Float(), nullable=True),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('rooms >= 1', name=op.f('ck_shared_dwellings_rooms_positive')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.department_id'],
                                name=op.f('fk_shared_dwellings_department_id_departments')),
        sa.PrimaryKeyConstraint('shared_dwelling_id', name=op.f('pk_shared_dwellings')),
    )
    op.create_index(op.f('ix_shared_dwellings_department_id'), 'shared_dwellings', ['department_id'], unique=False)
    with op.batch_alter_table('dwellings', schema=None, recreate='auto') as batch_op:
        batch_op.add_column(sa.Column('shared_dwelling_id', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_dwellings_shared_dwelling_id'), ['shared_dwelling_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_dwellings_shared_dwelling_id_shared_dwellings'),
                                    'shared_dwellings', ['shared_dwelling_id'], ['shared_dwelling_id'])


def downgrade() -> None:
    with op.batch_alter_table('dwellings', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_dwellings_shared_dwelling_id_shared_dwellings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_dwellings_shared_dwelling_id'))
        batch_op.drop_column('shared_dwelling_id')
    op.drop_index(op.f('ix_shared_dwellings_department_id'), table_name='shared_dwellings')
    op.drop_table('shared_dwellings')
