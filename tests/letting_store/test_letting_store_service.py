"""The letting service on SQLite and PostgreSQL: offers by list order, leases, conflicts, audit, scopes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from boligmix.errors import AuthorizationError, ConflictError
from boligmix.letting.store import service
from boligmix.letting.store.auth import Pseudonymiser
from boligmix.letting.store.idempotency import run_idempotent
from boligmix.letting.store.errors import IdempotencyMismatchError
from boligmix.letting.store.models import Lease, Offer, Vacancy

from store_support import STORE_ORDER, MUNI, seed_applicants, seed_stock


def _vacancy(store, org, dwelling_id, channel="waiting_list"):
    return store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2025, 1, 1), "channel": channel}))


def test_offers_follow_list_order_and_skip_unfit_applicants(store, tokens):
    _, org = tokens["org"]
    [dw, *_] = seed_stock(store, org, dwellings=1)
    # entry 0: oldest seniority but wants 4 rooms (dwelling has 3): skipped with the rooms rule.
    e_big = seed_applicants(store, org, 1, start_id=1, min_rooms=4, seniority_date=date(2000, 1, 1))[0]
    e_rent = seed_applicants(store, org, 1, start_id=2, max_rent_dkk=5000.0, seniority_date=date(2001, 1, 1))[0]
    e_late = seed_applicants(store, org, 1, start_id=3, seniority_date=date(2015, 1, 1))[0]
    e_early = seed_applicants(store, org, 1, start_id=4, seniority_date=date(2005, 1, 1))[0]
    e_internal = seed_applicants(store, org, 1, start_id=5, seniority_date=date(2020, 1, 1),
                                 list_type="internal")[0]
    v = _vacancy(store, org, dw)
    out = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], 3, rules=STORE_ORDER))
    assert [o["entry_id"] for o in out["offers"]] == [e_internal, e_early, e_late]
    assert [(d["entry_id"], d["outcome"]) for d in out["decisions"]] == [
        (e_internal, "offered"), (e_big, "skipped"), (e_rent, "skipped"), (e_early, "offered"),
        (e_late, "offered")]
    skip_rules = {d["entry_id"]: d["rule"] for d in out["decisions"] if d["outcome"] == "skipped"}
    assert skip_rules[e_big].endswith("#rooms") and skip_rules[e_rent].endswith("#rent")
    assert all(d["rule_version"] and d["facts"]["dwelling_rooms"] == 3 for d in out["decisions"])
    # A second round does not offer the same applicants again; the list is then exhausted.
    again = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], 2, rules=STORE_ORDER))
    assert again["offers"] == [] and again["exhausted"]


def test_accept_creates_one_lease_and_withdraws_the_other_offers(store, tokens):
    _, org = tokens["org"]
    [dw, *_] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 3)
    v = _vacancy(store, org, dw)
    offers = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], 3, rules=STORE_ORDER))["offers"]
    lease = store.transact(lambda s: service.accept_offer(s, org, offers[0]["offer_id"], date(2025, 2, 1)))
    assert lease["dwelling_id"] == dw and lease["entry_id"] == offers[0]["entry_id"]
    assert lease["lease_start"] == "2025-02-01"
    with pytest.raises(ConflictError, match="already let"):
        store.transact(lambda s: service.accept_offer(s, org, offers[1]["offer_id"]))
    with pytest.raises(ConflictError):
        store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], 1, rules=STORE_ORDER))
    trail = store.transact(lambda s: service.list_decisions(s, org, v["vacancy_id"]))
    assert [d["outcome"] for d in trail] == ["channel", "offered", "offered", "offered", "let", "withdrawn",
                                             "withdrawn"]
    # The same trail on SQLite (portable writes) and PostgreSQL (one statement).
    let, w1, w2 = trail[4:]
    assert (let["offer_id"], let["entry_id"], let["rank"], let["actor"]) == \
        (offers[0]["offer_id"], offers[0]["entry_id"], offers[0]["rank"], "org1")
    assert let["rule"] == "boligmix.store#accept" and let["facts"] == {
        "offer_id": offers[0]["offer_id"], "lease_id": lease["lease_id"], "lease_start": "2025-02-01",
        "offer_rule": offers[0]["rule"], "offer_rule_version": offers[0]["rule_version"]}
    assert [(w["offer_id"], w["entry_id"], w["applicant_id"], w["rule"]) for w in (w1, w2)] == [
        (o["offer_id"], o["entry_id"], o["applicant_id"], "boligmix.store#withdraw") for o in (offers[1], offers[2])]
    assert w1["facts"] == {"lease_id": lease["lease_id"], "winning_offer_id": offers[0]["offer_id"]}
    assert w1["unknown_facts"] == [] and w1["law"] is None and w1["household_id"] is not None
    statuses = {o["offer_id"]: o["status"] for o in
                store.transact(lambda s: service.list_offers(s, org, v["vacancy_id"]))}
    assert statuses == {offers[1]["offer_id"]: "withdrawn", offers[0]["offer_id"]: "accepted",
                        offers[2]["offer_id"]: "withdrawn"}


def test_one_open_offer_per_applicant_and_housed_once(store, tokens):
    _, org = tokens["org"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    [entry] = seed_applicants(store, org, 1)
    v1, v2 = _vacancy(store, org, dw1), _vacancy(store, org, dw2)
    o1 = store.transact(lambda s: service.make_offers(s, org, v1["vacancy_id"], rules=STORE_ORDER))["offers"][0]
    # While the offer for v1 is open, the applicant is not offered v2.
    assert store.transact(lambda s: service.make_offers(s, org, v2["vacancy_id"], rules=STORE_ORDER))["offers"] == []
    # A second open offer written past the rules is refused by the database (one per household).
    with pytest.raises(IntegrityError, match="(?i)unique"):
        with store.write() as s:
            s.add(Offer(vacancy_id=v2["vacancy_id"], entry_id=entry, applicant_id=1000, household_id=51_000,
                        rank=1, channel="waiting_list", rule="test", rule_version="0", status="open"))
            s.flush()
    store.transact(lambda s: service.accept_offer(s, org, o1["offer_id"]))
    with pytest.raises(ConflictError, match="already let"):
        store.transact(lambda s: service.accept_offer(s, org, o1["offer_id"]))


def test_refusal_is_recorded_and_counted(store, tokens):
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 2)
    v = _vacancy(store, org, dw)
    o = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], rules=STORE_ORDER))["offers"][0]
    refused = store.transact(lambda s: service.refuse_offer(s, org, o["offer_id"], "too far from work"))
    assert refused["status"] == "refused"
    with pytest.raises(ConflictError, match="refused"):
        store.transact(lambda s: service.accept_offer(s, org, o["offer_id"]))
    nxt = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], rules=STORE_ORDER))["offers"][0]
    assert nxt["entry_id"] != o["entry_id"]
    trail = store.transact(lambda s: service.list_decisions(s, org, v["vacancy_id"]))
    refusal = [d for d in trail if d["outcome"] == "refused"][0]
    assert refusal["reason"] == "too far from work" and refusal["facts"]["refusal_count"] == 1


def test_one_open_vacancy_per_dwelling(store, tokens):
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    _vacancy(store, org, dw)
    with pytest.raises(ConflictError, match="open vacancy"):
        _vacancy(store, org, dw)


def test_database_constraints_refuse_a_second_lease_and_audit_edits(store, tokens):
    """The last line of defence: even a buggy writer cannot let one vacancy twice or edit decisions."""
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 2)
    v = _vacancy(store, org, dw)
    offers = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], 2, rules=STORE_ORDER))["offers"]
    lease = store.transact(lambda s: service.accept_offer(s, org, offers[0]["offer_id"]))

    def second_lease(s):
        s.add(Lease(vacancy_id=v["vacancy_id"], offer_id=offers[1]["offer_id"], entry_id=offers[1]["entry_id"],
                    dwelling_id=dw, applicant_id=1, household_id=None, lease_start=date(2025, 1, 1),
                    channel="waiting_list"))
        s.flush()
    with pytest.raises(IntegrityError):
        store.transact(second_lease)

    def reopen_second_vacancy(s):
        s.add(Vacancy(dwelling_id=dw, channel="waiting_list", available_from=date(2025, 1, 1), status="open"))
        s.add(Vacancy(dwelling_id=dw, channel="waiting_list", available_from=date(2025, 1, 2), status="open"))
        s.flush()
    with pytest.raises(IntegrityError):
        store.transact(reopen_second_vacancy)
    for sql in ("UPDATE decisions SET reason = 'edited'", "DELETE FROM decisions"):
        with pytest.raises(DBAPIError, match="append-only"):
            store.transact(lambda s, sql=sql: s.execute(text(sql)))
    assert lease["lease_id"] == store.transact(lambda s: s.scalar(select(Lease.lease_id)))


def test_scopes_of_roles(store, tokens):
    _, org = tokens["org"]
    _, org2 = tokens["org2"]
    _, muni = tokens["muni"]
    _, muni2 = tokens["muni2"]
    _, analyst = tokens["analyst"]
    [dw, dw_k] = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 2)
    with pytest.raises(AuthorizationError):
        seed_applicants(store, org2, 1, org_id="ORG1")
    v = _vacancy(store, org, dw)
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.make_offers(s, org2, v["vacancy_id"], rules=STORE_ORDER))
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.make_offers(s, analyst, v["vacancy_id"], rules=STORE_ORDER))
    with pytest.raises(AuthorizationError):  # a waiting-list vacancy is the organisation's to let
        store.transact(lambda s: service.make_offers(s, muni, v["vacancy_id"], rules=STORE_ORDER))
    # The municipality reads what lies in its municipality, another municipality does not.
    assert store.transact(lambda s: service.get_vacancy(s, muni, v["vacancy_id"]))["status"] == "open"
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.list_decisions(s, muni2, v["vacancy_id"]))
    # Kommunal anvisning: the municipality refers and lets; the organisation cannot.
    vk = _vacancy(store, org, dw_k, channel="kommunal_anvisning")
    store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 777, "household_id": 778, "list_type": "municipal_referral",
        "municipality_code": MUNI, "seniority_date": date(2024, 5, 1)}))
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.create_applicant(s, muni2, {
            "applicant_id": 779, "list_type": "municipal_referral", "municipality_code": MUNI,
            "seniority_date": date(2024, 5, 1)}))
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: service.make_offers(s, org, vk["vacancy_id"], rules=STORE_ORDER))
    offer = store.transact(lambda s: service.make_offers(s, muni, vk["vacancy_id"], rules=STORE_ORDER))["offers"][0]
    assert offer["applicant_id"] == 777 and offer["channel"] == "kommunal_anvisning"
    lease = store.transact(lambda s: service.accept_offer(s, muni, offer["offer_id"]))
    assert lease["channel"] == "kommunal_anvisning"


def test_analysts_see_keyed_pseudonyms(store, tokens):
    _, org = tokens["org"]
    _, analyst = tokens["analyst"]
    [dw] = seed_stock(store, org, dwellings=1)
    seed_applicants(store, org, 1, start_id=4242)
    v = _vacancy(store, org, dw)
    store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], rules=STORE_ORDER))
    with store.read() as s:
        pseudo = Pseudonymiser.load(s)
        plain = service.list_offers(s, org, v["vacancy_id"], pseudo)
        masked = service.list_offers(s, analyst, v["vacancy_id"], pseudo)
        with pytest.raises(AuthorizationError, match="row-level"):
            service.list_decisions(s, analyst, v["vacancy_id"], pseudo)
        with pytest.raises(AuthorizationError, match="row-level"):
            service.list_applicants(s, analyst, org_id="ORG1", pseudo=pseudo)
    assert plain[0]["applicant_id"] == 4242
    assert masked[0]["applicant_id"] == pseudo(4242) and str(masked[0]["applicant_id"]).startswith("p_")
    assert masked[0]["household_id"] == pseudo(50_000 + 4242) != masked[0]["applicant_id"]
    assert "4242" not in repr(masked)
    assert Pseudonymiser(b"another key")(4242) != pseudo(4242)


def test_idempotent_writes(store, tokens):
    _, org = tokens["org"]
    [dw, dw2] = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 2)
    v = _vacancy(store, org, dw)
    offers = store.transact(lambda s: service.make_offers(s, org, v["vacancy_id"], 2, rules=STORE_ORDER))["offers"]
    calls = []

    def accept(offer_id):
        def op(s):
            calls.append(offer_id)
            return 201, service.accept_offer(s, org, offer_id)
        return op

    def run(key, offer_id, body=b"{}"):
        return run_idempotent(store, org, key, "POST", f"/api/offers/{offer_id}/accept", body, accept(offer_id),
                              lambda e: {"detail": str(e)})

    first = run("k1", offers[0]["offer_id"])
    again = run("k1", offers[0]["offer_id"])
    assert (first.status_code, first.replayed) == (201, False)
    assert (again.status_code, again.body, again.replayed) == (201, first.body, True)
    assert len(calls) == 1
    with pytest.raises(IdempotencyMismatchError):
        run("k1", offers[0]["offer_id"], body=b'{"lease_start": "2030-01-01"}')
    with pytest.raises(IdempotencyMismatchError):
        run("k1", offers[1]["offer_id"])
    lost = run("k2", offers[1]["offer_id"])
    assert lost.status_code == 409 and "already let" in lost.body["detail"]
    assert run("k2", offers[1]["offer_id"]).body == lost.body
    # Keys belong to a token: another organisation's token with the same key is a new request.
    assert store.transact(lambda s: s.scalar(select(Lease.lease_id).where(Lease.vacancy_id == v["vacancy_id"])))
    with store.read() as s:
        n = s.scalar(text("SELECT count(*) FROM idempotency_keys"))
    assert n == 2
    del dw2


def test_household_json_for_the_engine():
    from boligmix.letting.model import MemberRole
    from boligmix.letting.store.engine_rules import household_from_json
    from boligmix.letting.store.errors import InvalidRequestError

    h = household_from_json({}, 5, 6, size=3)
    assert h.size == 3 and h.applicant.person_id == 5 and h.household_id == 6
    assert [m.role for m in h.members] == [MemberRole.APPLICANT, MemberRole.OTHER, MemberRole.OTHER]
    full = household_from_json({"members": [
        {"person_id": 1, "role": "applicant", "birth_date": "1990-02-03",
         "benefits": {"known_from": "2020-01-01", "known_to": "2024-06-01",
                      "spells": [{"benefit": "dagpenge", "first_month": "2024-01-01", "last_month": "2024-03-01"}]}},
        {"person_id": 2, "role": "child"}]}, 1, None)
    assert full.size == 2 and full.applicant.benefits.spells[0].benefit == "dagpenge"
    for bad, field in [({"members": [{"person_id": 1, "role": "spouse"}]}, "exactly one"),
                       ({"members": [{"person_id": 1, "role": "applicant", "birth_date": "3 May"}]},
                        "members[0].birth_date"),
                       ({"members": "x"}, "must be a list")]:
        with pytest.raises(InvalidRequestError, match=field.replace("[", r"\[").replace("]", r"\]")):
            household_from_json(bad, 1, None)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite serialises write transactions
def test_concurrent_rounds_pass_over_locked_entries_and_lock_only_their_offers(store, tokens):
    """Three rounds open at once on one list (PostgreSQL): each offers the first entry no other
    round holds, in list order, with no decision about the entries passed over; a round locks only
    the entries it offers (the deeper plan it locks from leaves the others free)."""
    assert store.dialect == "postgresql"
    _, org = tokens["org"]
    dwellings = seed_stock(store, org, dwellings=3)
    entries = seed_applicants(store, org, 4)  # seniority in entry order
    vacancies = [_vacancy(store, org, dw)["vacancy_id"] for dw in dwellings]
    with store.write() as a:
        first = service.make_offers(a, org, vacancies[0], rules=STORE_ORDER)
        with store.write() as b:
            second = service.make_offers(b, org, vacancies[1], rules=STORE_ORDER)
            third = store.transact(lambda s: service.make_offers(s, org, vacancies[2], rules=STORE_ORDER))
    assert [r["offers"][0]["entry_id"] for r in (first, second, third)] == entries[:3]
    assert [d["entry_id"] for d in second["decisions"]] == [entries[1]]
    assert [d["entry_id"] for d in third["decisions"]] == [entries[2]]
    assert second["offers"][0]["rank"] == third["offers"][0]["rank"] == 1


def test_offer_rounds_default_to_the_statutory_rules(store, tokens):
    """Without rules named, a round is made by the statutory engine rules (waiting-list policy, answer
    deadline); the plain list order only when `StoreOrderRules` is given by name."""
    _, org = tokens["org"]
    dw1, dw2 = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 4, household_size=3)
    default = store.transact(lambda s: service.make_offers(s, org, _vacancy(store, org, dw1)["vacancy_id"]))
    assert default["rules"] == "engine" and default["offers"]
    assert all(o["rule"].startswith("dk.venteliste#") and o["deadline"] for o in default["offers"])
    named = store.transact(lambda s: service.make_offers(s, org, _vacancy(store, org, dw2)["vacancy_id"],
                                                         rules=STORE_ORDER))
    assert named["rules"] == "store-order" and named["offers"][0]["deadline"] is None
