"""The statutory ranking sees the whole waiting list: a fortrinsret holder behind more than 5,000
more senior applicants gets the first offer (the store used to cut the list at 5,000 by seniority
before the engine ranked it, issue 11)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.models import Applicant

from store_support import ORG, seed_stock

pytestmark = pytest.mark.slow

SENIOR = 5_100


def test_a_fortrinsret_holder_behind_5000_senior_applicants_is_offered_first(store, tokens):
    _, org = tokens["org"]
    [dw] = seed_stock(store, org, dwellings=1)
    rows = [{"applicant_id": 10_000 + i, "household_id": 90_000 + i, "list_type": "external", "list_owner": ORG,
             "org_id": ORG, "seniority_date": date(2000, 1, 1) + timedelta(days=i // 10), "household_size": 3,
             "min_rooms": 1, "household": {}, "priority_rights": [], "facts": {}, "refusal_count": 0,
             "status": "active"} for i in range(SENIOR)]
    rows.append({**rows[-1], "applicant_id": 7, "household_id": 8, "seniority_date": date(2023, 1, 1),
                 "priority_rights": ["fortrinsret"]})
    with store.write() as s:
        s.execute(insert(Applicant), rows)
    rules = EngineRules()
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dw, "available_from": date(2025, 1, 1)}, rules=rules))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules))
    assert made["offers"][0]["applicant_id"] == 7 and made["offers"][0]["rank"] == 1
    considered = {d["applicant_id"] for d in made["decisions"] if d["applicant_id"] is not None}
    assert len(considered) == SENIOR + 1  # every applicant of the list was assessed
