"""The offer round's lock-ahead as one PostgreSQL function, `boligmix_lock_first_offerable`.

An engine round locks the first free entries of its ranking (`candidates._lock_first_offerable`).
It sent a window of 64 entry ids as one statement (`entry_id = ANY(...)`, two anti-joins against
the held offers, `ORDER BY array_position(...) LIMIT n FOR UPDATE SKIP LOCKED`) and a second
statement re-checking the locked ones with a new snapshot. The statement evaluated its filters for
all 64 ids before sorting them, and with a prepared (generic) plan made while the tables' statistics
were young it scanned the whole `applicants` table comparing each row with the 64 ids and the held
offers for each id: 3.0 ms of PostgreSQL per round (pg_stat_statements, 2,000 applicants, issue 11,
docs/letting.md), the largest statement of a letting.

The function walks the ids in rank order and stops at the n-th free one (a round wants a few):
per id one primary-key read with the two held-offer checks (probes of the partial unique indexes of
0013), when free a primary-key read `FOR UPDATE SKIP LOCKED`, and once locked the same read and
checks again as a new statement (READ COMMITTED: a new snapshot sees an offer to the household
committed between the first statement's snapshot and the lock). The same entries are locked and returned as by the two statements: those
free (active, the person's and the household's offers neither open nor accepted) at the lock, in
the given order, passing over rows a concurrent transaction holds; an entry locked and then found
busy stays locked (as before) and is not returned. The unique indexes still refuse a second held
offer of a household whatever a round locked.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_HELD = ("(EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = a.applicant_id AND o.status IN ('open', 'accepted'))"
         " OR EXISTS (SELECT 1 FROM offers o WHERE o.household_id = a.household_id"
         " AND o.status IN ('open', 'accepted')))")
"""Does the person or the household of entry `a` hold an open or accepted offer? (`household_id` NULL
holds nothing.) Used below only in a select list, never in a WHERE clause:
there PostgreSQL plans it as a subplan run per entry with the entry's person and household as
parameters, probes of the partial unique indexes of 0013, whatever the tables' statistics say (as an
anti-join in a WHERE clause its plan depended on them, and one read the partial indexes whole).
Each is a statement of its own in the PL/pgSQL function, its plan kept by the session."""

LOCK_FUNCTION = r"""
CREATE OR REPLACE FUNCTION boligmix_lock_first_offerable(p_ids integer[], p_n integer)
RETURNS integer[] LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_id integer;
    v_held boolean;
    v_free integer[] := '{}';
BEGIN
    IF p_n IS NULL OR p_n <= 0 THEN
        RETURN v_free;
    END IF;
    FOREACH v_id IN ARRAY coalesce(p_ids, '{}') LOOP
        CONTINUE WHEN v_id IS NULL OR v_id = ANY (v_free);
        -- Not locked when its household holds an offer (a lock held until the round commits
        -- would make an acceptance of that offer wait for the round).
        SELECT {held} INTO v_held FROM applicants a WHERE a.entry_id = v_id AND a.status = 'active';
        CONTINUE WHEN NOT FOUND OR v_held;
        PERFORM 1 FROM applicants a WHERE a.entry_id = v_id AND a.status = 'active' FOR UPDATE OF a SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        -- Locked: checked again by a new statement (a new snapshot) that sees an offer committed
        -- since the check before the lock; such an entry stays locked but is not free.
        SELECT {held} INTO v_held FROM applicants a WHERE a.entry_id = v_id;
        CONTINUE WHEN v_held;
        v_free := v_free || v_id;
        EXIT WHEN cardinality(v_free) >= p_n;
    END LOOP;
    RETURN v_free;
END
$fn$
""".replace("{held}", _HELD)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(LOCK_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS boligmix_lock_first_offerable(integer[], integer)")
