"""List versions and the log of changed households, for the offer rounds' list cache.

An offer round over a whole list read all of the list's ~2,000 candidates every round (three
anti-joins each: ~3.7 ms of PostgreSQL per round, more than a third of the database's work per
letting). With this revision a worker keeps each list's candidates between rounds and reads only
what changed (`store.list_cache`):

* `list_versions` (one row per list owner) and `list_changes` (the households changed in a
  version), written on PostgreSQL by deferred row triggers at the commit of the change (so the
  version row is locked only from then to the commit, and concurrent writers of one list are not
  serialised for longer):
  applicants inserted, updated or deleted (their owner's lists) and offers inserted, deleted or
  changing status (the lists of every entry with the offer's person or household id: whether the
  household is held by an open or accepted offer decides whether its entries are candidates).
  The version is raised by an upsert whose row lock orders one owner's changes in commit order, so
  a worker that read version N and the changes up to N knows the lists as of N; a rolled-back
  change rolls back its version and its log rows together.
* `ix_applicants_household_id`: the triggers find an offer's household's entries by it.

SQLite: the tables and the index only (the store reads the whole list every round there).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_NOTE_ENTRY = """
    WITH b AS (INSERT INTO list_versions AS lv (list_owner, version) VALUES ({r}.list_owner, 1)
               ON CONFLICT (list_owner) DO UPDATE SET version = lv.version + 1 RETURNING lv.version)
    INSERT INTO list_changes (list_owner, version, applicant_id, household_id)
    SELECT {r}.list_owner, b.version, {r}.applicant_id, {r}.household_id FROM b;"""
_NOTE_OFFER = """
    WITH b AS (INSERT INTO list_versions AS lv (list_owner, version)
               SELECT DISTINCT a.list_owner, 1 FROM applicants a
               WHERE a.applicant_id = {r}.applicant_id
                  OR ({r}.household_id IS NOT NULL AND a.household_id = {r}.household_id)
               ORDER BY 1
               ON CONFLICT (list_owner) DO UPDATE SET version = lv.version + 1
               RETURNING lv.list_owner, lv.version)
    INSERT INTO list_changes (list_owner, version, applicant_id, household_id)
    SELECT b.list_owner, b.version, {r}.applicant_id, {r}.household_id FROM b;"""
_FUNCTIONS = {
    "list_changes_applicants": """
CREATE FUNCTION list_changes_applicants() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN""" + _NOTE_ENTRY.format(r="NEW") + """
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.list_owner IS DISTINCT FROM NEW.list_owner
      OR OLD.applicant_id IS DISTINCT FROM NEW.applicant_id OR OLD.household_id IS DISTINCT FROM NEW.household_id)) THEN
""" + _NOTE_ENTRY.format(r="OLD") + """
  END IF;
  RETURN NULL;
END $$""",
    "list_changes_pending": """
CREATE FUNCTION list_changes_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('boligmix.list_changes_pending', 'on', true);
  RETURN NULL;
END $$""",
    "list_changes_offers": """
CREATE FUNCTION list_changes_offers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN""" + _NOTE_OFFER.format(r="NEW") + """
  END IF;
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.applicant_id IS DISTINCT FROM NEW.applicant_id
      OR OLD.household_id IS DISTINCT FROM NEW.household_id)) THEN""" + _NOTE_OFFER.format(r="OLD") + """
  END IF;
  RETURN NULL;
END $$""",
}
"""Each raises the version of an owner's lists and logs the household (one row per version): an
entry's change its owner's, an offer's the owners of every entry with the offer's person or
household id (in owner order). PL/pgSQL, so each statement's plan is kept by the session."""

TRIGGERS = {  # deferred: run at commit, so the version row is locked only from then to the commit
    "list_changes_applicants": "AFTER INSERT OR UPDATE OR DELETE ON applicants",
    "list_changes_offers_made": "AFTER INSERT OR DELETE ON offers",
    "list_changes_offers_answered": "AFTER UPDATE ON offers",
}
_TRIGGER_FUNCTIONS = {"list_changes_applicants": "list_changes_applicants",
                      "list_changes_offers_made": "list_changes_offers",
                      "list_changes_offers_answered": "list_changes_offers"}
_WHEN = {"list_changes_offers_answered": " WHEN ((OLD.status IN ('open', 'accepted')) "
                                         "IS DISTINCT FROM (NEW.status IN ('open', 'accepted')) "
                                         "OR OLD.applicant_id IS DISTINCT FROM NEW.applicant_id "
                                         "OR OLD.household_id IS DISTINCT FROM NEW.household_id)"}
"""Offers count when they are made or deleted, or when their status starts or stops holding the
household (open and accepted hold it: open -> accepted changes no list's candidates)."""

PENDING_TRIGGERS = {  # not deferred: a transaction knows at once that it changed lists it has not committed
    "list_changes_pending_applicants": "AFTER INSERT OR UPDATE OR DELETE ON applicants",
    "list_changes_pending_offers": "AFTER INSERT OR UPDATE OR DELETE ON offers",
}
"""Statement triggers that mark the transaction (`boligmix.list_changes_pending`, a transaction-local
setting, no lock): its own changes are not in the log until it commits, so a round in it reads
the lists whole and keeps no copy."""


def upgrade() -> None:
    op.create_table(
        'list_versions',
        sa.Column('list_owner', sa.String(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('list_owner', name=op.f('pk_list_versions')))
    op.create_table(
        'list_changes',
        sa.Column('change_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('list_owner', sa.String(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('applicant_id', sa.BigInteger(), nullable=True),
        sa.Column('household_id', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('change_id', name=op.f('pk_list_changes')))
    op.create_index('ix_list_changes_owner_version', 'list_changes', ['list_owner', 'version'], unique=False)
    op.create_index('ix_applicants_household_id', 'applicants', ['household_id'], unique=False)
    if op.get_bind().dialect.name != 'postgresql':
        return
    for sql in _FUNCTIONS.values():
        op.execute(sql)
    for name, event in TRIGGERS.items():
        op.execute(f"CREATE CONSTRAINT TRIGGER {name} {event} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
                   f"{_WHEN.get(name, '')} EXECUTE FUNCTION {_TRIGGER_FUNCTIONS[name]}()")
    for name, event in PENDING_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {event} FOR EACH STATEMENT EXECUTE FUNCTION list_changes_pending()")
    # every existing list starts at version 1 (a worker reads it whole the first time)
    op.execute("INSERT INTO list_versions (list_owner, version) SELECT DISTINCT list_owner, 1 FROM applicants")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, event in {**TRIGGERS, **PENDING_TRIGGERS}.items():
            op.execute(f"DROP TRIGGER {name} ON {event.rsplit(' ', 1)[1]}")
        for name in reversed(list(_FUNCTIONS)):
            op.execute(f"DROP FUNCTION {name}")
    op.drop_index('ix_applicants_household_id', table_name='applicants')
    op.drop_index('ix_list_changes_owner_version', table_name='list_changes')
    op.drop_table('list_changes')
    op.drop_table('list_versions')
