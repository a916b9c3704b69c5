"""The engine's follow-up records in the store: § 51 b entitlements are kept and given back as the
`kombineret_udlejning_tilbud` priority right in later rounds (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from boligmix.letting.model import Outcome
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.models import DECISION_OUTCOMES, Decision, Entitlement
from boligmix.letting.store.trail import ROUND

from letting_factories import organisation_offer_policies
from store_support import STORE_ORDER, MUNI, ORG

NOW = datetime(2024, 6, 15, 10, 0)


@pytest.fixture(scope="module")
def rules() -> EngineRules:
    """Municipality 101's kombineret udlejning making the offer elsewhere through the organisation
    (switch offer_elsewhere_by; the default, the municipality, is tested in test_letting_law.py)."""
    return EngineRules(organisation_offer_policies())


def _household(pid: int, benefit: str | None) -> dict:
    spells = [{"benefit": benefit, "first_month": "2023-01-01", "last_month": "2024-05-01"}] if benefit else []
    hist = {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": spells}
    return {"members": [
        {"person_id": pid, "role": "applicant", "birth_date": "1985-01-01", "benefits": hist,
         "facts": {"eu_eea_ch_citizen": True}},
        {"person_id": pid + 1, "role": "spouse", "birth_date": "1986-01-01", "cohabiting_since": "2010-01-01",
         "benefits": hist, "facts": {"eu_eea_ch_citizen": True}}]}


def _seed(store, org):
    def op(s):
        for dep, cats in [("ORG1-KU", ["kombineret_udlejning"]), ("ORG1-OUT", [])]:
            service.register_department(s, org, {"department_id": dep, "org_id": ORG, "department_name": dep,
                                                 "municipality_code": MUNI, "area_id": f"A-{dep}",
                                                 "area_categories": cats, "facts": {}})
        for dwelling_id, dep in [(1, "ORG1-KU"), (2, "ORG1-KU"), (3, "ORG1-OUT")]:
            service.register_dwelling(s, org, {"dwelling_id": dwelling_id, "department_id": dep, "rooms": 2,
                                               "floor_area_m2": 60.0, "monthly_rent_dkk": 5000.0})
        # 500: registered 2015 (before the scheme, 2022), both on kontanthjælp -> rejected and entitled.
        # 501: older seniority, no benefits: first in plain list order.
        for aid, seniority, benefit in [(500, date(2015, 1, 1), "kontanthjaelp"), (501, date(2012, 1, 1), None)]:
            service.create_applicant(s, org, {"applicant_id": aid, "household_id": aid + 1000,
                                              "list_type": "external", "org_id": ORG, "seniority_date": seniority,
                                              "household": _household(aid * 10, benefit)})
    store.transact(op)


def _round(store, org, rules, dwelling_id):
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2024, 7, 1)}))["vacancy_id"]
    return store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))


def test_outcomes_cover_the_engine():
    assert set(DECISION_OUTCOMES) == {o.value for o in Outcome} | {ROUND}  # and the compact round record


def test_entitlement_is_kept_and_gives_priority_outside_the_area(store, tokens, rules):
    _, org = tokens["org"]
    _seed(store, org)

    first = _round(store, org, rules, 1)  # a dwelling in the kombineret udlejning area
    by = {(d["applicant_id"], d["outcome"]): d for d in first["decisions"]}
    assert by[(500, "rejected")]["rule"] == "k0101.kombineret#listed_benefits"
    assert "51 b" in by[(500, "rejected")]["law"]
    entitled = by[(500, "entitled")]
    assert entitled["rule"].endswith("#offer_elsewhere") and entitled["facts"]["org_id"] == ORG
    assert [o["applicant_id"] for o in first["offers"]] == [501]

    ents = store.transact(lambda s: service.list_entitlements(s, org, ORG))
    assert len(ents) == 1 and ents[0]["applicant_id"] == 500 and ents[0]["open"]
    assert ents[0]["decision_id"] == entitled["decision_id"] and ents[0]["ends"] == "on_offer"

    # A second dwelling in the area: rejected again, but not entitled a second time.
    second = _round(store, org, rules, 2)
    outcomes_500 = [d["outcome"] for d in second["decisions"] if d["applicant_id"] == 500]
    assert "rejected" in outcomes_500 and "entitled" not in outcomes_500
    assert len(store.transact(lambda s: service.list_entitlements(s, org, ORG))) == 1

    # Outside the area: 501 holds an open offer (one at a time), so refuse it to put 501 back in play.
    store.transact(lambda s: service.refuse_offer(s, org, first["offers"][0]["offer_id"]))
    outside = _round(store, org, rules, 3)
    ranked = [d for d in outside["decisions"] if d["outcome"] == "offered"]
    assert ranked[0]["applicant_id"] == 500  # priority right despite 501's older seniority
    assert ranked[0]["facts"]["priority_right.kombineret_udlejning_tilbud"] is True
    assert "dk.venteliste#kombineret_udlejning_tilbud" in ranked[0]["facts"]["priorities_met"]
    [ent] = store.transact(lambda s: service.list_entitlements(s, org, ORG))
    offer_500 = next(o for o in outside["offers"] if o["applicant_id"] == 500)
    assert ent["fulfilled_by_offer_id"] == offer_500["offer_id"] and not ent["open"]


def test_database_holds_one_entitlement_per_applicant_and_organisation(store, tokens, rules):
    _, org = tokens["org"]
    _seed(store, org)
    _round(store, org, rules, 1)

    def duplicate(s):
        ent = s.scalar(select(Entitlement))
        dec = s.scalar(select(Decision.decision_id).where(Decision.outcome == "let"))  # none: use another id
        other = s.scalar(select(Decision.decision_id).where(Decision.decision_id != ent.decision_id))
        s.add(Entitlement(applicant_id=ent.applicant_id, org_id=ent.org_id, entry_id=ent.entry_id,
                          decision_id=dec or other, policy_id="x", policy_version="1", ends="on_offer"))
        s.flush()

    with pytest.raises(IntegrityError):
        store.transact(duplicate)
    with pytest.raises(DBAPIError):  # still append-only after migration 0002 recreated the table on SQLite
        store.transact(lambda s: s.execute(text("UPDATE decisions SET outcome = 'approved'")))


def test_passive_after_repeated_refusals(store, tokens):
    """The waiting-list policy's passive_after_refusals (3 in the packaged policy): the third refusal
    sets the entry passive (decision `passive` with the policy's rule); a passive entry gets no offers.
    Store-order rules know no such policy and only count."""
    from store_support import seed_applicants, seed_stock

    _, org = tokens["org"]
    rules = EngineRules()
    dws = seed_stock(store, org, dwellings=5)
    [first, second] = seed_applicants(store, org, 2, household_size=3)
    outcomes = []
    for dw in dws[:3]:
        vid = store.transact(lambda s, dw=dw: service.register_vacancy(
            s, org, {"dwelling_id": dw, "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))["vacancy_id"]
        made = store.transact(lambda s, vid=vid: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
        mine = [o for o in made["offers"] if o["entry_id"] == first]
        assert mine, made["decisions"]
        store.transact(lambda s, o=mine[0]: service.refuse_offer(s, org, o["offer_id"], rules=rules, now=NOW))
        for o in made["offers"]:
            if o["entry_id"] != first:
                store.transact(lambda s, o=o: service.refuse_offer(s, org, o["offer_id"], rules=STORE_ORDER))  # count only
        trail = store.transact(lambda s, vid=vid: service.list_decisions(s, org, vid))
        outcomes.append([d["outcome"] for d in trail if d["entry_id"] == first])
    assert [o.count("passive") for o in outcomes] == [0, 0, 1]
    with store.read() as s:
        passive = s.scalar(select(Decision).where(Decision.outcome == "passive"))
        assert passive.rule == "dk.venteliste#passive_after_refusals" and passive.facts == {
            "refusals": 3, "passive_after_refusals": 3}
    listed = {a["entry_id"]: a for a in store.transact(lambda s: service.list_applicants(s, org, org_id=ORG))}
    assert listed[first]["passive_since"] is not None and listed[second]["passive_since"] is None
    assert listed[second]["refusal_count"] == 3  # refused without engine rules: counted, not passive
    fourth = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dws[3], "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))
    assert fourth["channel"] == "kommunal_anvisning"  # the 1/4 rule takes every 4th vacancy
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dws[4], "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in made["offers"]] == [second]  # the passive entry is no candidate


def test_offer_deadlines_expire_and_count_as_refusals(store, tokens):
    """Engine offers carry the policy's answer deadline (answer_days, 7 in dk.venteliste); expiring
    after it ends the offer with an `expired` decision and, as no_answer_counts_as_refusal is on by
    default, counts a refusal. Before the deadline nothing expires."""
    from datetime import timedelta

    from store_support import seed_applicants, seed_stock

    _, org = tokens["org"]
    rules = EngineRules()
    [dw, dw2] = seed_stock(store, org, dwellings=2)
    seed_applicants(store, org, 3, household_size=3)
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 4, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    assert made["offers"]
    deadline = datetime.fromisoformat(made["offers"][0]["deadline"])
    assert deadline.replace(tzinfo=None) == NOW + timedelta(days=7)
    early = store.transact(lambda s: service.expire_offers(s, org, vid, NOW + timedelta(days=6), rules=rules))
    assert early == []
    late = store.transact(lambda s: service.expire_offers(s, org, vid, NOW + timedelta(days=8), rules=rules))
    assert sorted(o["offer_id"] for o in late) == sorted(o["offer_id"] for o in made["offers"])
    assert {o["status"] for o in late} == {"expired"}
    trail = store.transact(lambda s: service.list_decisions(s, org, vid))
    expired = [d for d in trail if d["outcome"] == "expired"]
    assert len(expired) == len(made["offers"]) and all(d["facts"]["counts_as_refusal"] for d in expired)
    refusals = {a["entry_id"]: a["refusal_count"]
                for a in store.transact(lambda s: service.list_applicants(s, org, org_id=ORG))}
    assert sorted(refusals[o["entry_id"]] for o in made["offers"]) == [1] * len(made["offers"])
    # store-order offers have no deadline and never expire
    vid2 = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw2, "available_from": date(2025, 4, 1)}))["vacancy_id"]
    plain = store.transact(lambda s: service.make_offers(s, org, vid2, 1, rules=STORE_ORDER))["offers"]
    assert len(plain) == 1 and plain[0]["deadline"] is None
    assert store.transact(lambda s: service.expire_offers(s, org, vid2, NOW + timedelta(days=999), rules=rules)) == []


@pytest.mark.parametrize("ending", ["withdrawn", "housed"])
def test_entitlement_closes_when_the_entry_leaves_the_list(store, tokens, rules, ending):
    """§ 51 b (rules-spec 6.3): a prior registrant rejected by kombineret udlejning is entitled to an
    offer elsewhere; the organisation sees the entitlement open while the applicant is still on the
    list, and closed once they withdrew or were housed (whatever `entitlement_ends` says)."""
    from boligmix.letting.store import follow_ups

    _, org = tokens["org"]
    _seed(store, org)
    _round(store, org, rules, 1)
    [ent] = store.transact(lambda s: service.list_entitlements(s, org, ORG))
    assert ent["open"] and ent["entry_status"] == "active"
    if ending == "withdrawn":
        store.transact(lambda s: follow_ups.withdraw_applicant(s, org, ent["entry_id"], now=NOW))
    else:  # housed through another organisation channel: accept an offer made by the store order
        from boligmix.letting.store.selection import StoreOrderRules

        vid = store.transact(lambda s: service.register_vacancy(
            s, org, {"dwelling_id": 2, "available_from": date(2024, 7, 1), "channel": "waiting_list"}))["vacancy_id"]
        made = store.transact(lambda s: service.make_offers(s, org, vid, 2, rules=StoreOrderRules(), now=NOW))
        offer = next(o for o in made["offers"] if o["entry_id"] == ent["entry_id"])
        store.transact(lambda s: service.accept_offer(s, org, offer["offer_id"], now=NOW))
    [after] = store.transact(lambda s: service.list_entitlements(s, org, ORG))
    assert after["entry_status"] == ending and not after["open"] and after["fulfilled_by_offer_id"] is None


def test_a_round_reads_exactly_its_candidates_entitlements_with_the_organisation(store, tokens, rules):
    """`rounds._entitlements` reads the organisation's entitlements (by `ix_entitlements_org_id`)
    and keeps those of the round's candidates: not another organisation's, not a non-candidate's."""
    from sqlalchemy import inspect

    from boligmix.letting.store.rounds import _entitlements

    _, org = tokens["org"]
    _seed(store, org)
    _round(store, org, rules, 1)  # 500 entitled with ORG

    def other_org(s):
        ent = s.scalar(select(Entitlement))
        other = s.scalar(select(Decision.decision_id).where(Decision.decision_id != ent.decision_id))
        s.add(Entitlement(applicant_id=501, org_id="OTHER", entry_id=ent.entry_id, decision_id=other,
                          policy_id="x", policy_version="1", ends="on_offer"))
        s.flush()

    store.transact(other_org)

    def read(org_id, ids):
        return store.transact(lambda s: sorted((e.applicant_id, e.org_id) for e in _entitlements(s, org_id, ids)))

    assert read(ORG, {500, 501}) == [(500, ORG)]
    assert read(ORG, {501}) == [] and read(ORG, set()) == []
    assert read("OTHER", {500, 501}) == [(501, "OTHER")] and read("OTHER", {500}) == []
    indexes = store.transact(lambda s: inspect(s.connection()).get_indexes("entitlements"))
    assert any(ix["name"] == "ix_entitlements_org_id" and ix["column_names"] == ["org_id"] for ix in indexes)
