"""Udslusningsboliger (almenboligloven § 63): `dwellings.udslusningsbolig` and the vacancy channel
`udslusning`.

Widens `ck_vacancies_channel` (on SQLite the table is recreated in batch mode, see 0007; the partial
unique index `uq_vacancies_open_dwelling` is created again with its condition) and adds the
dwelling flag (default false: existing dwellings are ordinary dwellings).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD = "channel IN ('waiting_list', 'internal', 'kommunal_anvisning', 'fleksibel', 'annoncering', 'rehousing', 'other')"
NEW = ("channel IN ('waiting_list', 'internal', 'kommunal_anvisning', 'fleksibel', 'annoncering', 'rehousing', "
       "'other', 'udslusning')")
OPEN = sa.text("status = 'open'")


def _set(check: str) -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('vacancies', schema=None, recreate='auto') as batch_op:
        if sqlite:  # the recreated table would lose the index's condition
            batch_op.drop_index('uq_vacancies_open_dwelling', sqlite_where=OPEN)
        batch_op.drop_constraint(op.f('ck_vacancies_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_vacancies_channel'), check)
    if sqlite:
        with op.batch_alter_table('vacancies', schema=None) as batch_op:
            batch_op.create_index('uq_vacancies_open_dwelling', ['dwelling_id'], unique=True, sqlite_where=OPEN)


def upgrade() -> None:
    _set(NEW)
    with op.batch_alter_table('dwellings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('udslusningsbolig', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT count(*) FROM vacancies WHERE channel = 'udslusning'")).scalar():
        raise RuntimeError("vacancies of the channel udslusning exist; the downgrade to 0014 would lose them")
    with op.batch_alter_table('dwellings', schema=None) as batch_op:
        batch_op.drop_column('udslusningsbolig')
    _set(OLD)
