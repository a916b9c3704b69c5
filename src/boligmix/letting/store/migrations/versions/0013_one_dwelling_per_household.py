"""One household, one dwelling: the household's open offer and new lease are unique in the database.

An applicant (a pseudonymous person id) may stand on several lists (an organisation's internal and
external lists, other organisations' lists, a municipality's referral list), and members of one
household may share a `household_id`. Before this migration "one open offer" and "housed" were kept
per list entry, so one household could hold two open offers and get two leases.

* `offers.applicant_id` and `offers.household_id` (copied from the entry; composite foreign keys
  `(entry_id, applicant_id)` and `(entry_id, household_id)` to `applicants` keep them equal to the
  entry's), `offers.lease_start` and `offers.accepted_at` (a provisional acceptance, see 0014);
* partial unique indexes: at most one offer per applicant and per household that is `open` or
  `accepted` (an accepted offer holds the household: provisionally, or for good with its lease);
* unique `leases.applicant_id` and partial unique `leases.household_id` (not null): one new lease
  per household, with composite foreign keys to the entry as for offers.

A database that already holds two open offers or two leases of one household cannot take the
indexes; the upgrade stops with a message naming them (nothing is changed).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

HOLDS = "status IN ('open', 'accepted')"


def _refuse_duplicates() -> None:
    conn = op.get_bind()
    checks = {
        "applicants with two open or accepted offers": (
            "SELECT a.applicant_id FROM offers o JOIN applicants a ON a.entry_id = o.entry_id "
            f"WHERE o.{HOLDS} GROUP BY a.applicant_id HAVING count(*) > 1"),
        "households with two open or accepted offers": (
            "SELECT a.household_id FROM offers o JOIN applicants a ON a.entry_id = o.entry_id "
            f"WHERE o.{HOLDS} AND a.household_id IS NOT NULL GROUP BY a.household_id HAVING count(*) > 1"),
        "applicants with two leases": "SELECT applicant_id FROM leases GROUP BY applicant_id HAVING count(*) > 1",
        "households with two leases": ("SELECT household_id FROM leases WHERE household_id IS NOT NULL "
                                       "GROUP BY household_id HAVING count(*) > 1"),
    }
    for what, sql in checks.items():
        ids = [r[0] for r in conn.execute(sa.text(sql)).fetchmany(20)]
        if ids:
            raise RuntimeError(f"migration 0013 (one dwelling per household): the database holds {what} "
                               f"(ids {ids}); resolve them (withdraw the offers, end the leases) and run "
                               f"`boligmix letting init-db` again")


def upgrade() -> None:
    _refuse_duplicates()
    op.create_index('uq_applicants_entry_person', 'applicants', ['entry_id', 'applicant_id'], unique=True)
    op.create_index('uq_applicants_entry_household', 'applicants', ['entry_id', 'household_id'], unique=True)
    with op.batch_alter_table('offers', schema=None, recreate='auto') as batch_op:
        batch_op.add_column(sa.Column('applicant_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('household_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('lease_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE offers SET applicant_id = (SELECT a.applicant_id FROM applicants a "
               "WHERE a.entry_id = offers.entry_id), household_id = (SELECT a.household_id FROM applicants a "
               "WHERE a.entry_id = offers.entry_id)")
    with op.batch_alter_table('offers', schema=None, recreate='auto') as batch_op:
        batch_op.alter_column('applicant_id', existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_foreign_key('fk_offers_entry_person_applicants', 'applicants',
                                    ['entry_id', 'applicant_id'], ['entry_id', 'applicant_id'])
        batch_op.create_foreign_key('fk_offers_entry_household_applicants', 'applicants',
                                    ['entry_id', 'household_id'], ['entry_id', 'household_id'])
    op.create_index('uq_offers_household_person', 'offers', ['applicant_id'], unique=True,
                    sqlite_where=sa.text(HOLDS), postgresql_where=sa.text(HOLDS))
    op.create_index('uq_offers_household', 'offers', ['household_id'], unique=True,
                    sqlite_where=sa.text(f"{HOLDS} AND household_id IS NOT NULL"),
                    postgresql_where=sa.text(f"{HOLDS} AND household_id IS NOT NULL"))
    with op.batch_alter_table('leases', schema=None, recreate='auto') as batch_op:
        batch_op.create_foreign_key('fk_leases_entry_person_applicants', 'applicants',
                                    ['entry_id', 'applicant_id'], ['entry_id', 'applicant_id'])
        batch_op.create_foreign_key('fk_leases_entry_household_applicants', 'applicants',
                                    ['entry_id', 'household_id'], ['entry_id', 'household_id'])
    op.create_index('uq_leases_household_person', 'leases', ['applicant_id'], unique=True)
    op.create_index('uq_leases_household', 'leases', ['household_id'], unique=True,
                    sqlite_where=sa.text("household_id IS NOT NULL"),
                    postgresql_where=sa.text("household_id IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('uq_leases_household', table_name='leases')
    op.drop_index('uq_leases_household_person', table_name='leases')
    with op.batch_alter_table('leases', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint('fk_leases_entry_household_applicants', type_='foreignkey')
        batch_op.drop_constraint('fk_leases_entry_person_applicants', type_='foreignkey')
    op.drop_index('uq_offers_household', table_name='offers')
    op.drop_index('uq_offers_household_person', table_name='offers')
    with op.batch_alter_table('offers', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint('fk_offers_entry_household_applicants', type_='foreignkey')
        batch_op.drop_constraint('fk_offers_entry_person_applicants', type_='foreignkey')
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('lease_start')
        batch_op.drop_column('household_id')
        batch_op.drop_column('applicant_id')
    op.drop_index('uq_applicants_entry_household', table_name='applicants')
    op.drop_index('uq_applicants_entry_person', table_name='applicants')
