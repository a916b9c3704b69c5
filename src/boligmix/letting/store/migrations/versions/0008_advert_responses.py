"""Respondents to a public advertisement (offentlig annoncering, § 60 a): list type `advert_response`.

Widens `ck_applicants_list_type` (on SQLite the table is recreated in batch mode, see 0007).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD = "list_type IN ('external', 'internal', 'municipal_referral', 'rehousing')"
NEW = "list_type IN ('external', 'internal', 'municipal_referral', 'rehousing', 'advert_response')"


def _set(check: str) -> None:
    with op.batch_alter_table('applicants', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_applicants_list_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_applicants_list_type'), check)


def upgrade() -> None:
    _set(NEW)


def downgrade() -> None:
    _set(OLD)
