"""§ 59 stk. 6 redirected referrals (`redirected_referrals`) and the `reactivated` outcome.

Widens `ck_decisions_outcome` by `reactivated` (on SQLite the table is recreated in batch mode,
as in 0002; `entitlements` refers to it, so `migrate.upgrade` turns SQLite's foreign keys off for
the migration and checks them before the commit) and adds the table of redirected referrals.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_OUTCOMES = ('channel', 'offered', 'skipped', 'rejected', 'accepted', 'refused', 'expired', 'withdrawn', 'let',
                'passive', 'entitled', 'redirected', 'approved')
NEW_OUTCOMES = OLD_OUTCOMES + ('reactivated',)


def _in(values: tuple[str, ...]) -> str:
    return f"outcome IN ({', '.join(repr(v) for v in values)})"


def _decisions_table(outcomes: tuple[str, ...]) -> sa.Table:
    """The `decisions` table as migrations 0001/0002 made it, with the given allowed outcomes."""
    return sa.Table(
        'decisions', sa.MetaData(),
        sa.Column('decision_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('vacancy_id', sa.Integer(), nullable=False),
        sa.Column('dwelling_id', sa.BigInteger(), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=True),
        sa.Column('offer_id', sa.Integer(), nullable=True),
        sa.Column('entry_id', sa.Integer(), nullable=True),
        sa.Column('applicant_id', sa.BigInteger(), nullable=True),
        sa.Column('household_id', sa.BigInteger(), nullable=True),
        sa.Column('rank', sa.Integer(), nullable=True),
        sa.Column('rule', sa.String(length=200), nullable=False),
        sa.Column('rule_version', sa.String(length=50), nullable=False),
        sa.Column('law', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('facts', sa.JSON(), nullable=False),
        sa.Column('unknown_facts', sa.JSON(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.CheckConstraint(_in(outcomes), name='ck_decisions_outcome'),
        sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.vacancy_id'], name='fk_decisions_vacancy_id_vacancies'),
        sa.PrimaryKeyConstraint('decision_id', name='pk_decisions'),
        sa.Index('ix_decisions_vacancy_id', 'vacancy_id'),
    )


def _set_outcomes(outcomes: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint(op.f('ck_decisions_outcome'), 'decisions', type_='check')
        op.create_check_constraint(op.f('ck_decisions_outcome'), 'decisions', _in(outcomes))
        return
    # SQLite cannot alter a CHECK constraint: recreate the table (rows copied in one transaction).
    # Other tables refer to decisions: `migrate.upgrade` runs SQLite migrations with foreign keys
    # off and checks them (PRAGMA foreign_key_check) before the commit.
    for event in ('update', 'delete'):
        op.execute(f"DROP TRIGGER IF EXISTS decisions_append_only_{event}")
    with op.batch_alter_table('decisions', copy_from=_decisions_table(outcomes), recreate='always'):
        pass
    for event in ('UPDATE', 'DELETE'):
        op.execute(f"""CREATE TRIGGER decisions_append_only_{event.lower()} BEFORE {event} ON decisions
                       BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END""")


def upgrade() -> None:
    _set_outcomes(NEW_OUTCOMES)
    op.create_table(
        'redirected_referrals',
        sa.Column('redirect_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('applicant_id', sa.BigInteger(), nullable=False),
        sa.Column('municipality_code', sa.Integer(), nullable=False),
        sa.Column('from_vacancy_id', sa.Integer(), nullable=False),
        sa.Column('decision_id', sa.Integer(), nullable=False),
        sa.Column('bar_rule', sa.String(length=200), nullable=False),
        sa.Column('policy_id', sa.String(length=200), nullable=False),
        sa.Column('policy_version', sa.String(length=50), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['decision_id'], ['decisions.decision_id'],
                                name=op.f('fk_redirected_referrals_decision_id_decisions')),
        sa.ForeignKeyConstraint(['entry_id'], ['applicants.entry_id'],
                                name=op.f('fk_redirected_referrals_entry_id_applicants')),
        sa.ForeignKeyConstraint(['from_vacancy_id'], ['vacancies.vacancy_id'],
                                name=op.f('fk_redirected_referrals_from_vacancy_id_vacancies')),
        sa.PrimaryKeyConstraint('redirect_id', name=op.f('pk_redirected_referrals')),
        sa.UniqueConstraint('decision_id', name=op.f('uq_redirected_referrals_decision_id')),
        sa.UniqueConstraint('entry_id', name=op.f('uq_redirected_referrals_entry_id')),
    )
    with op.batch_alter_table('redirected_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redirected_referrals_municipality_code'), ['municipality_code'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('redirected_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redirected_referrals_municipality_code'))
    op.drop_table('redirected_referrals')
    _set_outcomes(OLD_OUTCOMES)
