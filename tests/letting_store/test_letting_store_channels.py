"""Vacancy channels by the engine's share rules, from share counters kept in the store.

32 concurrent `POST /api/vacancies` to a `boligmix serve` process: the kommunal anvisning share
(1/4, almenboligloven § 59, stk. 1) comes out exactly, and every registration saw its own count.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import httpx
import pytest
from sqlalchemy import select

from boligmix.letting.policy import load_default_policies
from boligmix.letting.store import service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.errors import InvalidRequestError
from boligmix.letting.store.models import Decision, ShareCounter, Vacancy

from letting_server import Server, run_at_once
from store_support import ORG, seed_stock

NOW = datetime(2025, 3, 1, 9, 0)


@pytest.fixture(scope="module")
def rules() -> EngineRules:
    return EngineRules(load_default_policies(include_local_examples=False))  # as `boligmix serve`


@pytest.fixture(scope="module")
def local_rules() -> EngineRules:
    return EngineRules(load_default_policies(include_local_examples=True))


def _register(store, org, rules, dwelling_id, **body):
    return store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2025, 4, 1), **body}, rules=rules, now=NOW))


def test_quarter_rule_in_sequence_and_agreed_share(store, tokens, rules, local_rules):
    _, org = tokens["org"]
    dws = seed_stock(store, org, dwellings=8)
    channels = [_register(store, org, rules, dw)["channel"] for dw in dws]
    # floor(n/4) of n vacancies due to the municipality: the 4th and 8th.
    assert channels == ["waiting_list"] * 3 + ["kommunal_anvisning"] + ["waiting_list"] * 3 + ["kommunal_anvisning"]
    with store.read() as s:
        [row] = s.scalars(select(ShareCounter)).all()
        assert (row.policy_id, row.count_per, row.scope_key, row.seen, row.used) == \
            ("dk.almenboligloven.59", "organisation", ORG, 8, {"kommunal_anvisning": 2})
        dec = s.scalars(select(Decision).where(Decision.outcome == "channel")
                        .order_by(Decision.decision_id)).all()[3]
        assert dec.rule == "dk.almenboligloven.59#shares.kommunal_anvisning" and "§ 59" in dec.law
        assert dec.facts["vacancies_seen"] == 4 and dec.facts["share"] == 0.25

    # Ishøj (183) agreed on 100 % kommunal anvisning: a separate policy and counter.
    ish = seed_stock(store, org, dwellings=2, department_id="ORG1-183", municipality_code=183)
    assert [_register(store, org, local_rules, dw)["channel"] for dw in ish] == ["kommunal_anvisning"] * 2
    with store.read() as s:
        rows = {r.policy_id: (r.seen, r.used) for r in s.scalars(select(ShareCounter))}
    assert rows["k0183.anvisning"] == (2, {"kommunal_anvisning": 2})
    assert rows["dk.almenboligloven.59"] == (8, {"kommunal_anvisning": 2})

    with pytest.raises(InvalidRequestError, match="assigned by the letting rules"):
        _register(store, org, rules, ish[0], channel="waiting_list")


@pytest.mark.slow
def test_32_concurrent_registrations_keep_the_share_exact(db_url, store, tokens, tmp_path):
    secret, org = tokens["org"]
    n = 32
    dws = seed_stock(store, org, dwellings=n)
    server = Server(db_url, log_path=tmp_path / "server.log")
    server.extra_args = ["--workers", "2"]
    server.start()
    results: dict[int, httpx.Response] = {}

    def client(i: int) -> None:
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            results[i] = http.post("/api/vacancies", headers={"Authorization": f"Bearer {secret}"},
                                   json={"dwelling_id": dws[i], "available_from": "2025-04-01"})

    try:
        run_at_once(n, client)
    finally:
        server.stop()
    assert sorted(r.status_code for r in results.values()) == [201] * n, \
        [r.text for r in results.values() if r.status_code != 201]
    assert Counter(r.json()["channel"] for r in results.values()) == {"kommunal_anvisning": 8, "waiting_list": 24}
    with store.read() as s:
        [row] = s.scalars(select(ShareCounter)).all()
        assert (row.seen, row.used) == (n, {"kommunal_anvisning": 8})
        assert Counter(s.scalars(select(Vacancy.channel))) == {"kommunal_anvisning": 8, "waiting_list": 24}
        seen = []
        for d in s.scalars(select(Decision).where(Decision.outcome == "channel")):
            if d.channel == "kommunal_anvisning":
                seen.append(d.facts["vacancies_seen"])
                assert d.facts["vacancies_seen"] % 4 == 0  # taken exactly when due
            else:
                seen.append(d.facts["dk.almenboligloven.59"]["vacancies_seen"])
        assert sorted(seen) == list(range(1, n + 1))  # each registration saw its own count


def test_a_registration_writes_the_same_rows_on_every_database(store, tokens, rules):
    """The vacancy, its channel decision and the share counter as a registration writes them (one
    driver-SQL statement on PostgreSQL, the ORM on SQLite): the same values on both; a second
    open vacancy of the dwelling is refused and writes nothing."""
    from boligmix.errors import ConflictError

    from store_support import STORE_ORDER

    _, org = tokens["org"]
    dws = seed_stock(store, org, dwellings=2)
    by_engine = _register(store, org, rules, dws[0])
    by_order = store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dws[1], "available_from": date(2025, 4, 1), "channel": "fleksibel"},
        rules=STORE_ORDER))
    with pytest.raises(ConflictError, match="already has the open vacancy"):
        _register(store, org, rules, dws[0])
    with store.read() as s:
        vacancies = [(v.vacancy_id, v.dwelling_id, v.channel, v.available_from, v.status, v.created_at is not None)
                     for v in s.scalars(select(Vacancy).order_by(Vacancy.vacancy_id))]
        decisions = [(d.vacancy_id, d.dwelling_id, d.outcome, d.channel, d.rule, d.rule_version, d.law, d.reason,
                      d.facts, d.unknown_facts, d.actor, d.offer_id, d.entry_id, d.applicant_id, d.rank)
                     for d in s.scalars(select(Decision).order_by(Decision.decision_id))]
        counters = [(c.policy_id, c.scope_key, c.count_per, c.seen, c.used) for c in s.scalars(select(ShareCounter))]
    e, o = by_engine["vacancy_id"], by_order["vacancy_id"]
    assert by_engine == {"vacancy_id": e, "dwelling_id": dws[0], "channel": "waiting_list",
                         "available_from": "2025-04-01", "status": "open"}
    assert by_order == {"vacancy_id": o, "dwelling_id": dws[1], "channel": "fleksibel",
                        "available_from": "2025-04-01", "status": "open"}
    assert vacancies == [(e, dws[0], "waiting_list", date(2025, 4, 1), "open", True),
                         (o, dws[1], "fleksibel", date(2025, 4, 1), "open", True)]
    [first, second] = decisions
    assert first[:5] == (e, dws[0], "channel", "waiting_list", "dk.venteliste#default_channel")
    assert first[8]["dk.almenboligloven.59"]["vacancies_seen"] == 1 and first[9:] == ([], org.name, None, None, None, None)
    assert second == (o, dws[1], "channel", "fleksibel", "boligmix.store#channel", "1", None,
                      "vacancy registered, to be let by fleksibel",
                      {"channel": "fleksibel", "department_id": second[8]["department_id"], "org_id": ORG,
                       "municipality_code": second[8]["municipality_code"],
                       "area_categories": second[8]["area_categories"]},
                      [], org.name, None, None, None, None)
    assert counters == [("dk.almenboligloven.59", ORG, "organisation", 1, {})]
