"""The household in the letting API is a typed, documented schema (OpenAPI), stored in the shape
the caller sent (the shape the store always kept), so stored households stay readable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from boligmix.letting.bodies import ApplicantIn, HouseholdIn
from boligmix.letting.store.engine_rules import household_from_json
from boligmix.web.app import create_app

MEMBER = {"person_id": 1, "role": "applicant", "birth_date": "1990-02-03",
          "benefits": {"known_from": "2020-01-01", "known_to": "2024-06-01",
                       "spells": [{"benefit": "ressourceforloebsydelse_jobafklaring", "first_month": "2024-01-01",
                                   "last_month": "2024-03-01"}]},
          "facts": {"eu_eea_ch_citizen": True, "released_from_youth_institution_on": False,
                    "lease_terminated_for_breach_on": "2024-02-01"}}


def test_openapi_documents_the_typed_household(db_url):
    with TestClient(create_app(db_url, pool_size=1)) as client:
        spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    applicant = schemas["ApplicantIn"]["properties"]["household"]
    assert "HouseholdIn" in str(applicant)
    member = schemas["HouseholdMemberIn"]["properties"]
    assert {"person_id", "role", "birth_date", "cohabiting_since", "benefits", "facts"} <= set(member)
    facts = schemas["MemberFactsIn"]["properties"]
    assert {"eu_eea_ch_citizen", "released_after_sentence_on", "released_from_youth_institution_on",
            "lease_terminated_for_breach_on"} <= set(facts)
    assert "ressourceforloebsydelse_jobafklaring" in str(schemas["BenefitSpellIn"])


def test_stored_shape_is_what_the_caller_sent_and_reads_back():
    body = ApplicantIn.model_validate({"applicant_id": 5, "list_type": "external", "org_id": "O",
                                       "seniority_date": "2015-01-01", "household": {"members": [MEMBER]}})
    stored = body.model_dump()["household"]
    assert stored == {"members": [MEMBER]}                    # nothing added, dates as ISO text
    h = household_from_json(stored, 5, None)
    # the stored ISO date is read as the event date: within 6 months of 15 June 2024, not of 2 Aug 2024
    from datetime import date

    from boligmix.letting.facts import event_within
    assert event_within(h.applicant, "lease_terminated_for_breach_on", 6, date(2024, 6, 15))[0] is True
    assert event_within(h.applicant, "lease_terminated_for_breach_on", 6, date(2024, 8, 2))[0] is False
    assert ApplicantIn.model_validate({"applicant_id": 5, "list_type": "external", "seniority_date": "2015-01-01"}
                                      ).model_dump()["household"] == {}


@pytest.mark.parametrize("bad, where", [
    ({"members": [{"person_id": 1, "role": "boss"}]}, "role"),
    ({"members": [{"person_id": 1, "role": "spouse"}]}, "exactly one member"),
    ({"members": [{**MEMBER, "benefits": {**MEMBER["benefits"], "spells": [
        {"benefit": "lottery_win", "first_month": "2024-01-01", "last_month": "2024-02-01"}]}}]}, "benefit"),
    ({"members": [{**MEMBER, "birth_date": "3 May"}]}, "birth_date"),
    ({"members": [{**MEMBER, "facts": {"released_after_sentence_on": "soon"}}]}, "released_after_sentence_on"),
])
def test_bad_households_are_refused_naming_the_field(bad, where):
    with pytest.raises(Exception) as err:
        HouseholdIn.model_validate(bad)
    assert where in str(err.value)
