"""Statutory reports from the store's trail (SQLite and PostgreSQL):

* § 51 c dispensations, reported each 1 July (rules-spec 6.4; bek. § 37 names the grounds): an
  applicant and spouse 6 months on kontanthjælp are rejected in an omdannelsesområde unless the
  municipality dispensed; the report counts the dispensed applicants, their offers and lettings by
  ground, exactly for the municipality, suppressed for analysts;
* § 51 b rejections "reported to the minister", per area.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.errors import AuthorizationError
from boligmix.letting.policy import load_default_policies
from boligmix.letting.store import reports, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.web.app import create_app

from store_support import MUNI, ORG

NOW = datetime(2024, 6, 15, 10, 0)
OMDANNELSE = ["omdannelse", "parallelsamfund", "udsat"]
TODAY = datetime.now(timezone.utc).date()
END = reports.default_period_end(TODAY).replace(year=reports.default_period_end(TODAY).year + 1)
"""The period that holds today (decisions are dated when they are taken)."""


def _household(pid: int, benefit: str | None) -> dict:
    spells = [{"benefit": benefit, "first_month": "2023-01-01", "last_month": "2024-06-01"}] if benefit else []  # receives it now
    hist = {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": spells}
    return {"members": [
        {"person_id": pid, "role": "applicant", "birth_date": "1985-01-01", "benefits": hist},
        {"person_id": pid + 1, "role": "spouse", "birth_date": "1986-01-01", "cohabiting_since": "2010-01-01",
         "benefits": hist}]}


def _seed_51c(store, org, muni=None) -> dict[int, int]:
    """Department ORG1-OD in an omdannelsesområde; 300 and 301 dispensed (301 without grounds),
    302 not (rejected), 303 without benefits; the municipality (`muni`) sets the dispensation facts
    (bek. § 37: it alone grants them). Returns applicant id -> entry id."""
    from boligmix.letting.store import follow_ups

    if muni is None:
        from store_support import add_token

        muni = add_token(store, "kommune-51c", "municipality", [str(MUNI)])[1]
    dispensations = {}

    def op(s):
        service.register_department(s, org, {"department_id": "ORG1-OD", "org_id": ORG, "department_name": "OD",
                                             "municipality_code": MUNI, "area_id": "A-OD",
                                             "area_categories": OMDANNELSE, "facts": {}})
        service.register_dwelling(s, org, {"dwelling_id": 71, "department_id": "ORG1-OD", "rooms": 3,
                                           "floor_area_m2": 70.0, "monthly_rent_dkk": 5000.0})
        out = {}
        for aid, benefit, facts in [
                (300, "kontanthjaelp", {"dispensation_51c": True,
                                        "dispensation_51c_grounds": "imminent_work_or_education"}),
                (301, "kontanthjaelp", {"dispensation_51c": True}),
                (302, "kontanthjaelp", {"dispensation_51c": False}),
                (303, None, {})]:
            out[aid] = service.create_applicant(s, org, {
                "applicant_id": aid, "household_id": aid + 1000, "list_type": "external", "org_id": ORG,
                "seniority_date": date(2010, 1, 1) + timedelta(days=aid), "household": _household(aid * 10, benefit),
                "facts": {"applicant.lives_in_department": False}})["entry_id"]
            dispensations[out[aid]] = facts
        return out
    out = store.transact(op)
    for entry_id, facts in dispensations.items():
        if facts:
            store.transact(lambda s: follow_ups.update_applicant(s, muni, entry_id, {"facts": facts}))
    return out


def _let_71(store, org, rules):
    vid = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": 71, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))["vacancy_id"]
    made = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=rules, now=NOW))
    first = made["offers"][0]
    store.transact(lambda s: service.accept_offer(s, org, first["offer_id"], now=NOW))
    return made


def test_dispensation_report_counts_dispensed_offers_and_lettings_by_ground(store, tokens):
    rules = EngineRules()
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    _seed_51c(store, org)
    made = _let_71(store, org, rules)
    outcome = {d["applicant_id"]: d["outcome"] for d in made["decisions"] if d["applicant_id"]}
    assert outcome == {300: "offered", 301: "offered", 302: "rejected", 303: "offered"}
    assert made["offers"][0]["applicant_id"] == 300
    report = store.transact(lambda s: reports.dispensation_report(s, muni, municipality_code=MUNI, period_end=END))
    [row] = report["rows"]
    assert (row["municipality_code"], row["org_id"], row["department_id"]) == (MUNI, ORG, "ORG1-OD")
    assert (row["applicants"], row["offers"], row["lettings"]) == (2, 2, 1)
    assert row["grounds.imminent_work_or_education"] == 1 and row["grounds.not_stated"] == 1
    assert row["grounds.imminent_pension"] == 0 and row["grounds.unrecognised"] == 0
    assert report["rules"] == [{"rule": "dk.almenboligloven.51c#listed_benefits", "rule_version": "2019-07-01.2"}]
    assert report["period_start"] == END.replace(year=END.year - 1).isoformat()
    by_muni = store.transact(lambda s: reports.dispensation_report(s, muni, municipality_code=MUNI, period_end=END,
                                                                   level="municipality"))
    assert [(r["municipality_code"], r["applicants"]) for r in by_muni["rows"]] == [(MUNI, 2)]
    # a period without today: nothing
    earlier = store.transact(lambda s: reports.dispensation_report(s, muni, municipality_code=MUNI,
                                                                   period_end=END.replace(year=END.year - 1)))
    assert earlier["rows"] == []
    # analysts: every municipality, counts below the threshold suppressed
    _, analyst = tokens["analyst"]
    seen = store.transact(lambda s: reports.dispensation_report(s, analyst, period_end=END))
    [arow] = seen["rows"]
    assert arow["applicants"] is None and "applicants:primary" in arow["suppressed"]
    assert seen["suppression"] == "disclosure policy" and seen["min_count"] >= 2
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: reports.dispensation_report(s, org, municipality_code=MUNI, period_end=END))
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: reports.dispensation_report(s, tokens["muni2"][1], municipality_code=MUNI))


def test_report_endpoints_and_cli(db_url, store, tokens):
    rules = EngineRules()
    _, org = tokens["org"]
    _seed_51c(store, org)
    _let_71(store, org, rules)
    with TestClient(create_app(db_url, pool_size=2, rules=rules)) as client:
        h = {"Authorization": f"Bearer {tokens['muni'][0]}"}
        r = client.get("/api/reports/dispensations", headers=h,
                       params={"municipality_code": MUNI, "period_end": END.isoformat()})
        assert r.status_code == 200 and r.json()["rows"][0]["applicants"] == 2
        assert client.get("/api/reports/dispensations", headers={"Authorization": f"Bearer {tokens['org'][0]}"},
                          params={"municipality_code": MUNI}).status_code == 403
        assert client.get("/api/reports/dispensations", headers=h, params={"municipality_code": MUNI,
                                                                          "level": "area"}).status_code == 422
        a = client.get("/api/reports/dispensations", headers={"Authorization": f"Bearer {tokens['analyst'][0]}"},
                       params={"period_end": END.isoformat()})
        assert a.status_code == 200 and a.json()["rows"][0]["applicants"] is None
    runner = CliRunner()
    res = runner.invoke(app, ["letting", "report-dispensations", "--db", db_url, "--municipality", str(MUNI),
                              "--period-end", END.isoformat(), "--json"])
    assert res.exit_code == 0, res.output
    assert '"applicants": 2' in res.stdout and '"grounds.not_stated": 1' in res.stdout
    bad = runner.invoke(app, ["letting", "report-dispensations", "--db", db_url, "--period-end", "1 July"])
    assert bad.exit_code == 2 and "ISO date" in bad.output


def test_rejection_report_counts_51b_rejections_per_area(db_url, store, tokens):
    import test_letting_store_follow_ups as f

    rules = EngineRules(load_default_policies(include_local_examples=True))   # k0101: kombineret udlejning
    _, org = tokens["org"]
    _, muni = tokens["muni"]
    f._seed(store, org)
    f._round(store, org, rules, 1)
    report = store.transact(lambda s: reports.rejection_report(s, muni, municipality_code=MUNI, period_end=END))
    assert [(r["area_id"], r["department_id"], r["applicants_rejected"], r["rejections"]) for r in report["rows"]] \
        == [("A-ORG1-KU", "ORG1-KU", 1, 1)]
    assert report["rules"][0]["rule"].startswith("k0101.kombineret#")
    res = CliRunner().invoke(app, ["letting", "report-rejections", "--db", db_url, "--period-end", END.isoformat()])
    assert res.exit_code == 0 and "rejections_51b" in res.stdout and "·" in res.stdout   # analyst view: suppressed


def test_default_period_ends_on_the_latest_1_july():
    assert reports.default_period_end(date(2025, 7, 1)) == date(2025, 7, 1)
    assert reports.default_period_end(date(2025, 6, 30)) == date(2024, 7, 1)
    assert reports.default_period_end(date(2025, 12, 31)) == date(2025, 7, 1)
