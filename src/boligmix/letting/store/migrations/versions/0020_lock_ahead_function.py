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
per id one primary-key lookup with the two held-offer checks (the partial unique indexes of 0013)
and `FOR UPDATE SKIP LOCKED`, then, once locked, the same checks again as a new statement (READ
COMMITTED: a new snapshot sees an offer to the household committed between the first statement's
snapshot and the lock). The same entries are locked and returned as by the two statements: those
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

_HELD = ("(EXISTS (SELECT 1 FROM offers o WHERE o.applicant_id = v_person AND o.status IN ('open', 'accepted'))"
         " OR EXISTS (SELECT 1 FROM offers o WHERE o.household_id = v_household"
         " AND o.status IN ('open', 'accepted')))")
"""Does the person or the household hold an open or accepted offer? (Two probes of the partial unique
indexes of 0013 with the entry's values as parameters, so their plan does not depend on the tables'
statistics; `household_id` NULL holds nothing.) In the PL/pgSQL function below each evaluation is a
statement of its own with a new snapshot (READ COMMITTED), so a check after the lock sees what
committed before it; its plan is kept by the session."""

LOCK_FUNCTION = r"""
CREATE OR REPLACE FUNCTION boligmix_lock_first_offerable(p_ids integer[], p_n integer)
RETURNS integer[] LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v_id integer;
    v_person bigint;
    v_household bigint;
    v_free integer[] := '{}';
BEGIN
    IF p_n IS NULL OR p_n <= 0 THEN
        RETURN v_free;
    END IF;
    FOREACH v_id IN ARRAY coalesce(p_ids, '{}') LOOP
        CONTINUE WHEN v_id IS NULL OR v_id = ANY (v_free);
        -- Not locked when its household holds an offer (a lock held until the round commits
        -- would make an acceptance of that offer wait for the round).
        SELECT a.applicant_id, a.household_id INTO v_person, v_household
          FROM applicants a WHERE a.entry_id = v_id AND a.status = 'active';
        CONTINUE WHEN NOT FOUND OR {held};
        SELECT a.applicant_id, a.household_id INTO v_person, v_household
          FROM applicants a WHERE a.entry_id = v_id AND a.status = 'active'
           FOR UPDATE OF a SKIP LOCKED;
        -- Locked (the row as it is now): a new statement, a new snapshot, sees an offer committed
        -- since the check before; such an entry stays locked but is not free.
        CONTINUE WHEN NOT FOUND OR {held};
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
