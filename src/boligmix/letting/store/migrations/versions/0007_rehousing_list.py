"""The municipality's rehousing list (`applicants.list_type = 'rehousing'`).

Widens `ck_applicants_list_type` (on SQLite the table is recreated in batch mode; other tables
refer to it, so `migrate.upgrade` runs the migration with SQLite's foreign keys off and checks
them before the commit).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD = "list_type IN ('external', 'internal', 'municipal_referral')"
NEW = "list_type IN ('external', 'internal', 'municipal_referral', 'rehousing')"


def _set(check: str) -> None:
    with op.batch_alter_table('applicants', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_applicants_list_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_applicants_list_type'), check)


def upgrade() -> None:
    _set(NEW)


def downgrade() -> None:
    _set(OLD)
