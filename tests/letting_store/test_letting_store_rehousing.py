"""The rehousing list (migration 0007): a municipality that demands up to every 3rd vacancy for
households whose dwelling must be vacated (almenboligloven § 59, stk. 1; rules-spec 6.1) names
them on its rehousing list; the store's rehousing vacancies are offered to them, by the
municipality, and their refusals do not count towards passive status (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from boligmix.errors import AuthorizationError
from boligmix.letting.policy import POLICY_DIR, load_policies
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules

from store_support import MUNI, ORG, seed_applicants, seed_stock

NOW = datetime(2024, 6, 15, 10, 0)


@pytest.fixture(scope="module")
def rules(tmp_path_factory) -> EngineRules:
    folder = tmp_path_factory.mktemp("rehousing")
    (folder / "k0101_genhusning.yaml").write_text(
        "id: k0101.genhusning\nbase: dk.almenboligloven.59\nversion: '2024-01-01.1'\neffective_from: 2010-01-01\n"
        "scope: {municipality_codes: [101], almen_types: [family]}\n"
        "shares: {kommunal_anvisning: 0.25, rehousing: 0.3333333333333333}\n", encoding="utf-8")
    return EngineRules(load_policies([POLICY_DIR / "statutory", folder]))


def test_every_third_vacancy_goes_to_the_rehousing_list(store, tokens, rules):
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    dws = seed_stock(store, org, dwellings=4)
    seed_applicants(store, org, 2, household_size=3)
    rehoused = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 77, "household_id": 770, "list_type": "rehousing", "municipality_code": MUNI,
        "seniority_date": date(2024, 5, 1), "household_size": 3}))
    assert rehoused["list_type"] == "rehousing" and rehoused["org_id"] is None
    referral = store.transact(lambda s: service.create_applicant(s, muni, {
        "applicant_id": 78, "list_type": "municipal_referral", "municipality_code": MUNI,
        "seniority_date": date(2001, 1, 1), "household_size": 3}))
    with pytest.raises(AuthorizationError):  # an organisation cannot fill the municipality's lists
        store.transact(lambda s: service.create_applicant(s, org, {
            "applicant_id": 79, "list_type": "rehousing", "municipality_code": MUNI,
            "seniority_date": date(2024, 5, 1)}))
    vacancies = [store.transact(lambda s, dw=dw: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW)) for dw in dws]
    assert [v["channel"] for v in vacancies] == ["waiting_list", "waiting_list", "rehousing", "kommunal_anvisning"]
    third = vacancies[2]["vacancy_id"]
    with pytest.raises(AuthorizationError, match="rehousing of municipality"):
        store.transact(lambda s: service.make_offers(s, org, third, None, rules=rules, now=NOW))
    made = store.transact(lambda s: service.make_offers(s, muni, third, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in made["offers"]] == [rehoused["entry_id"]]   # not the referral, not the list
    assert referral["entry_id"] not in {d["entry_id"] for d in made["decisions"]}
    store.transact(lambda s: service.refuse_offer(s, muni, made["offers"][0]["offer_id"], rules=rules, now=NOW))
    listed = store.transact(lambda s: service.list_applicants(s, muni, municipality_code=MUNI, list_type="rehousing"))
    assert listed[0]["refusal_count"] == 1 and listed[0]["passive_since"] is None
    # the only rehousing household refused: nobody left for this vacancy, so it goes to the waiting list
    again = store.transact(lambda s: service.make_offers(s, muni, third, None, rules=rules, now=NOW))
    assert again["offers"] == [] and again["channel"] == "waiting_list"   # released (unused_referral)
    fourth = vacancies[3]["vacancy_id"]
    ref = store.transact(lambda s: service.make_offers(s, muni, fourth, None, rules=rules, now=NOW))
    assert [o["entry_id"] for o in ref["offers"]] == [referral["entry_id"]]
    lease = store.transact(lambda s: service.accept_offer(s, muni, ref["offers"][0]["offer_id"], now=NOW))
    assert lease["channel"] == "kommunal_anvisning"
