"""The acceptance function `boligmix_accept_offer` (PostgreSQL) with "the best-ranked acceptor wins".

Replaces the function of migration 0012 (new parameters: the provisional acceptance's rule and
reason). New outcomes: `provisional` (202: a better-ranked offer of the vacancy is still open; the
offer becomes `accepted` with `accepted_at` and `lease_start`, an `accepted` decision names the
offers it waits for) and `stale` (a better-ranked offer is past its deadline: the caller expires it
by the rules and calls again; nothing written). A letting withdraws the other open and
provisionally accepted offers. The SQLite path is `boligmix.letting.store.answers`; both take the
same decisions (test `test_letting_store_rank_wins.py` runs on both).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import importlib

from alembic import op

_accept_0012 = importlib.import_module("boligmix.letting.store.migrations.versions.0012_accept_function")

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

ACCEPT_FUNCTION_V2 = r"""
CREATE OR REPLACE FUNCTION boligmix_accept_offer(
    p_offer_id integer, p_lease_start date, p_as_of timestamptz, p_now timestamptz,
    p_role text, p_scope text[], p_municipal_channels text[], p_actor text,
    p_token_id integer, p_key text, p_path text, p_request_sha256 text,
    p_rule_version text, p_rule_let text, p_reason_let text, p_rule_withdraw text, p_reason_withdraw text,
    p_rule_provisional text, p_reason_provisional text,
    OUT r_outcome text, OUT r_status integer, OUT r_body json)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    v record;
    v_locked record;
    o record;
    v_lease_id integer;
    v_start date;
    v_ok boolean;
    v_waiting json;
BEGIN
    r_status := NULL;
    r_body := NULL;
    p_now := coalesce(p_now, now());
    p_as_of := coalesce(p_as_of, p_now);
    IF p_token_id IS NOT NULL THEN
        SELECT t.revoked_at IS NULL INTO v_ok FROM api_tokens t WHERE t.token_id = p_token_id;
        IF v_ok IS NOT TRUE THEN
            r_outcome := 'unauthenticated';
            RETURN;
        END IF;
        IF p_key IS NOT NULL AND EXISTS (SELECT 1 FROM idempotency_keys k
                                         WHERE k.token_id = p_token_id AND k.idem_key = p_key) THEN
            r_outcome := 'replay';
            RETURN;
        END IF;
    END IF;

    -- First without a lock: a vacancy seen let (with its lease, committed together) stays let, so
    -- the losers of a race are answered without locking (or writing) anything.
    SELECT vc.vacancy_id, vc.dwelling_id, vc.channel, vc.available_from, vc.status, d.org_id,
           d.municipality_code, x.lease_id
      INTO v
      FROM offers ofr
      JOIN vacancies vc ON vc.vacancy_id = ofr.vacancy_id
      JOIN dwellings w ON w.dwelling_id = vc.dwelling_id
      JOIN departments d ON d.department_id = w.department_id
      LEFT JOIN leases x ON x.vacancy_id = vc.vacancy_id
     WHERE ofr.offer_id = p_offer_id;
    IF NOT FOUND THEN
        r_outcome := 'not_found';
        RETURN;
    END IF;
    IF v.status <> 'let' THEN
        -- The vacancy lock: competing acceptances of one vacancy are served one after the other.
        -- A new statement after the wait sees the latest commit (READ COMMITTED); an offer round may
        -- have changed the channel meanwhile (a release), so the scope check reads it here.
        SELECT vc.status, vc.channel, vc.available_from INTO v_locked
          FROM vacancies vc WHERE vc.vacancy_id = v.vacancy_id FOR UPDATE;
        v.status := v_locked.status;
        v.channel := v_locked.channel;
        v.available_from := v_locked.available_from;
        v.lease_id := NULL;
    END IF;
    IF v.channel = ANY (p_municipal_channels) THEN
        v_ok := p_role = 'municipality' AND v.municipality_code::text = ANY (p_scope);
    ELSE
        v_ok := p_role = 'housing_organisation' AND v.org_id = ANY (p_scope);
    END IF;
    IF NOT v_ok THEN
        r_outcome := 'forbidden';
        r_body := json_build_object('vacancy_id', v.vacancy_id, 'channel', v.channel, 'org_id', v.org_id,
                                  'municipality_code', v.municipality_code);
        RETURN;
    END IF;

    IF v.status = 'let' THEN
        IF v.lease_id IS NULL THEN
            -- Let while the lock was awaited: a new statement, a new snapshot, sees the lease.
            SELECT x.lease_id INTO v_lease_id FROM leases x WHERE x.vacancy_id = v.vacancy_id;
        ELSE
            v_lease_id := v.lease_id;
        END IF;
        r_outcome := 'conflict';
        r_body := json_build_object('error', 'ConflictError', 'detail',
                                  format('vacancy %s is already let (lease %s)', v.vacancy_id,
                                         coalesce(v_lease_id::text, 'None')));
    ELSIF v.status <> 'open' THEN
        r_outcome := 'conflict';
        r_body := json_build_object('error', 'ConflictError', 'detail',
                                  format('vacancy %s is %s', v.vacancy_id, v.status));
    ELSE
        -- Re-read the offer now that the vacancy is locked, and lock the applicant's entry.
        SELECT ofr.status, ofr.rank, ofr.rule, ofr.rule_version, ofr.entry_id, ofr.deadline, a.applicant_id,
               a.household_id, a.status AS entry_status
          INTO o
          FROM offers ofr JOIN applicants a ON a.entry_id = ofr.entry_id
         WHERE ofr.offer_id = p_offer_id
           FOR UPDATE OF a;
        IF o.status <> 'open' THEN
            r_outcome := 'conflict';
            r_body := json_build_object('error', 'ConflictError', 'detail',
                                      format('offer %s is %s', p_offer_id, o.status));
        ELSIF o.entry_status <> 'active' THEN
            r_outcome := 'conflict';
            r_body := json_build_object('error', 'ConflictError', 'detail',
                                      format('applicant entry %s is %s; it cannot accept offer %s',
                                             o.entry_id, o.entry_status, p_offer_id));
        ELSIF o.deadline IS NOT NULL AND o.deadline < p_as_of THEN
            r_outcome := 'expired';
            RETURN;
        ELSIF EXISTS (SELECT 1 FROM offers b WHERE b.vacancy_id = v.vacancy_id AND b.offer_id < p_offer_id
                         AND b.status = 'open' AND b.deadline IS NOT NULL AND b.deadline < p_as_of)
              OR (EXISTS (SELECT 1 FROM offers b WHERE b.vacancy_id = v.vacancy_id AND b.offer_id < p_offer_id
                             AND b.status = 'accepted')
                  AND NOT EXISTS (SELECT 1 FROM offers b WHERE b.vacancy_id = v.vacancy_id
                                     AND b.offer_id < p_offer_id AND b.status = 'open')) THEN
            -- A better-ranked offer is past its deadline: its expiry is the rules' business (refusal
            -- counting, passive status), so the caller expires it and asks again. Nothing written.
            r_outcome := 'stale';
            RETURN;
        ELSIF EXISTS (SELECT 1 FROM offers b WHERE b.vacancy_id = v.vacancy_id AND b.offer_id < p_offer_id
                         AND b.status = 'open') THEN
            -- The best-ranked acceptor wins: while a better-ranked offer is open, the acceptance waits.
            SELECT coalesce(json_agg(b.offer_id ORDER BY b.offer_id), '[]'::json) INTO v_waiting
              FROM offers b WHERE b.vacancy_id = v.vacancy_id AND b.offer_id < p_offer_id AND b.status = 'open';
            UPDATE offers SET status = 'accepted', accepted_at = p_now, lease_start = p_lease_start
             WHERE offer_id = p_offer_id;
            INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, channel, offer_id, entry_id,
                                   applicant_id, household_id, rank, rule, rule_version, law, reason, facts,
                                   unknown_facts, actor)
            VALUES (p_now, 'accepted', v.vacancy_id, v.dwelling_id, v.channel, p_offer_id, o.entry_id, o.applicant_id,
                    o.household_id, o.rank, p_rule_provisional, p_rule_version, NULL, p_reason_provisional,
                    json_build_object('offer_id', p_offer_id, 'waiting_for', v_waiting,
                                      'lease_start', to_char(p_lease_start, 'YYYY-MM-DD')),
                    CAST('[]' AS json), p_actor);
            r_outcome := 'provisional';
            r_status := 202;
            r_body := json_build_object('lease_id', NULL, 'status', 'accepted', 'vacancy_id', v.vacancy_id,
                                      'offer_id', p_offer_id, 'entry_id', o.entry_id, 'dwelling_id', v.dwelling_id,
                                      'applicant_id', o.applicant_id, 'household_id', o.household_id,
                                      'rank', o.rank, 'lease_start', to_char(p_lease_start, 'YYYY-MM-DD'),
                                      'channel', v.channel, 'waiting_for', v_waiting);
        ELSE
            v_start := coalesce(p_lease_start, v.available_from);
            INSERT INTO leases (vacancy_id, offer_id, entry_id, dwelling_id, applicant_id, household_id,
                                lease_start, channel, created_at)
            VALUES (v.vacancy_id, p_offer_id, o.entry_id, v.dwelling_id, o.applicant_id, o.household_id,
                    v_start, v.channel, p_now)
            RETURNING lease_id INTO v_lease_id;
            UPDATE offers SET status = 'accepted' WHERE offer_id = p_offer_id;
            UPDATE vacancies SET status = 'let' WHERE vacancy_id = v.vacancy_id;
            UPDATE applicants SET status = 'housed' WHERE entry_id = o.entry_id;
            INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, channel, offer_id, entry_id,
                                   applicant_id, household_id, rank, rule, rule_version, law, reason, facts,
                                   unknown_facts, actor)
            VALUES (p_now, 'let', v.vacancy_id, v.dwelling_id, v.channel, p_offer_id, o.entry_id, o.applicant_id,
                    o.household_id, o.rank, p_rule_let, p_rule_version, NULL, p_reason_let,
                    json_build_object('offer_id', p_offer_id, 'lease_id', v_lease_id,
                                      'lease_start', to_char(v_start, 'YYYY-MM-DD'), 'offer_rule', o.rule,
                                      'offer_rule_version', o.rule_version),
                    CAST('[]' AS json), p_actor);
            WITH wd AS (
                UPDATE offers SET status = 'withdrawn'
                 WHERE vacancy_id = v.vacancy_id AND status IN ('open', 'accepted') AND offer_id <> p_offer_id
                RETURNING offer_id, entry_id, rank)
            INSERT INTO decisions (created_at, outcome, vacancy_id, dwelling_id, channel, offer_id, entry_id,
                                   applicant_id, household_id, rank, rule, rule_version, law, reason, facts,
                                   unknown_facts, actor)
            SELECT p_now, 'withdrawn', v.vacancy_id, v.dwelling_id, v.channel, wd.offer_id, wd.entry_id,
                   ap.applicant_id, ap.household_id, wd.rank, p_rule_withdraw, p_rule_version, NULL,
                   p_reason_withdraw,
                   json_build_object('lease_id', v_lease_id, 'winning_offer_id', p_offer_id),
                   CAST('[]' AS json), p_actor
              FROM wd JOIN applicants ap ON ap.entry_id = wd.entry_id
             ORDER BY wd.offer_id;
            r_outcome := 'done';
            r_status := 201;
            r_body := json_build_object('lease_id', v_lease_id, 'vacancy_id', v.vacancy_id, 'offer_id', p_offer_id,
                                      'entry_id', o.entry_id, 'dwelling_id', v.dwelling_id,
                                      'applicant_id', o.applicant_id, 'household_id', o.household_id,
                                      'lease_start', to_char(v_start, 'YYYY-MM-DD'), 'channel', v.channel);
        END IF;
    END IF;
    IF r_outcome = 'conflict' THEN
        r_status := 409;
    END IF;
    IF p_key IS NOT NULL THEN
        -- The answer is stored with the request's key in the same transaction as the writes.
        INSERT INTO idempotency_keys (token_id, idem_key, method, path, request_sha256, status_code, response,
                                      created_at)
        VALUES (p_token_id, p_key, 'POST', p_path, p_request_sha256, r_status, r_body, p_now);
    END IF;
END
$fn$
"""


DROP_V1 = _accept_0012.DROP_FUNCTION
DROP_V2 = ("DROP FUNCTION IF EXISTS boligmix_accept_offer(integer, date, timestamptz, timestamptz, text, text[], "
           "text[], text, integer, text, text, text, text, text, text, text, text, text, text)")


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(DROP_V1)
        op.execute(ACCEPT_FUNCTION_V2)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(DROP_V2)
        op.execute(_accept_0012.ACCEPT_FUNCTION)
