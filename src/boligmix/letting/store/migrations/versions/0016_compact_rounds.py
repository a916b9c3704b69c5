"""Compact offer rounds and versioned applicant rows.

* The `round` outcome: one `decisions` row per offer round (`store.trail`). Widens
  `ck_decisions_outcome` (on SQLite the table is recreated in batch mode, as in 0006, with the
  append-only triggers created again). Rows written one per candidate before this revision stay
  as they are: `store.trail.expand` reads both forms.
* `applicants.row_version`: new for every insert and update of a row, set by a trigger (from the
  sequence `applicant_row_versions` on PostgreSQL; a random 63-bit number on SQLite, whose rowids
  and write transactions may be reused after a rollback), so a worker's cache of candidate entries
  keyed by (entry, version) never serves a changed row (`store.candidates`).

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
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('row_version', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE SEQUENCE applicant_row_versions")
        op.execute("""
            CREATE FUNCTION applicants_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.row_version := nextval('applicant_row_versions'); RETURN NEW; END $$""")
        op.execute("""CREATE TRIGGER applicants_row_version BEFORE INSERT OR UPDATE ON applicants
                      FOR EACH ROW EXECUTE FUNCTION applicants_row_version()""")
        op.execute("UPDATE applicants SET row_version = 0")  # the trigger gives every existing row a version
    else:
        new_version = "UPDATE applicants SET row_version = (random() & 9223372036854775807)"
        op.execute(f"""CREATE TRIGGER applicants_row_version_insert AFTER INSERT ON applicants
                       BEGIN {new_version} WHERE entry_id = NEW.entry_id; END""")
        op.execute(f"""CREATE TRIGGER applicants_row_version_update AFTER UPDATE ON applicants
                       WHEN NEW.row_version IS OLD.row_version
                       BEGIN {new_version} WHERE entry_id = NEW.entry_id; END""")
        op.execute(new_version)


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT count(*) FROM decisions WHERE outcome = 'round'")).scalar():
        raise RuntimeError("compact round records exist; the downgrade to 0015 would have to expand them")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER applicants_row_version ON applicants")
        op.execute("DROP FUNCTION applicants_row_version()")
        op.execute("DROP SEQUENCE applicant_row_versions")
    else:
        op.execute("DROP TRIGGER applicants_row_version_insert")
        op.execute("DROP TRIGGER applicants_row_version_update")
    with op.batch_alter_table('applicants', schema=None) as batch_op:
        batch_op.drop_column('row_version')
    _0006._set_outcomes(OLD_OUTCOMES)
