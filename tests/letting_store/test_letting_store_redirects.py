"""§ 59 stk. 6 redirected referrals in the letting store, hand-written (rules-spec 6.1): the
municipality may not refer a household with a non-EU/EEA member (nr. 4) to a dwelling in an udsat
area, and must refer it elsewhere. The store keeps the engine's redirect and the referral ranks
first at the municipality's next referral dwelling outside the area (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.letting.policy import load_default_policies
from boligmix.letting.store import follow_ups, service
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.models import Decision, RedirectedReferral

from store_support import add_token

NOW = datetime(2024, 6, 15, 10, 0)
ISHOEJ = 183  # the packaged example k0183.anvisning: 100 % kommunal anvisning


@pytest.fixture(scope="module")
def rules() -> EngineRules:
    return EngineRules(load_default_policies(include_local_examples=True))


def _member(pid: int, eu: bool) -> dict:
    return {"person_id": pid, "role": "applicant", "birth_date": "1985-01-01",
            "benefits": {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": []},
            "facts": {"eu_eea_ch_citizen": eu, "enrolled_student": False, "released_after_sentence_on": False,
                      "lease_terminated_for_breach_on": False,
                      "released_from_youth_institution_after_sentence": False}}


def _world(store, org):
    """ORG1 in Ishøj: two dwellings in an udsat department, two outside; two referrals."""
    _, kommune = add_token(store, "ishoej", "municipality", [str(ISHOEJ)])

    def op(s):
        for dep, cats in [("ISH-UDSAT", ["udsat"]), ("ISH-OUT", [])]:
            service.register_department(s, org, {"department_id": dep, "org_id": "ORG1", "department_name": dep,
                                                 "municipality_code": ISHOEJ, "area_id": f"A-{dep}",
                                                 "area_categories": cats, "facts": {}})
        for dwelling_id, dep in [(11, "ISH-UDSAT"), (12, "ISH-UDSAT"), (21, "ISH-OUT"), (22, "ISH-OUT")]:
            service.register_dwelling(s, org, {"dwelling_id": dwelling_id, "department_id": dep, "rooms": 2,
                                               "floor_area_m2": 60.0, "monthly_rent_dkk": 5000.0})
        entries = {}
        # 700: not an EU/EEA citizen, referred in 2023; 701: referred long before (older seniority).
        for aid, seniority, eu in [(700, date(2023, 1, 1), False), (701, date(2010, 1, 1), True)]:
            entries[aid] = service.create_applicant(s, kommune, {
                "applicant_id": aid, "household_id": aid + 1000, "list_type": "municipal_referral",
                "municipality_code": ISHOEJ, "seniority_date": seniority,
                "household": {"members": [_member(aid * 10, eu)]}})["entry_id"]
        return entries
    return kommune, store.transact(op)


def _vacancy(store, org, rules, dwelling_id):
    return store.transact(lambda s: service.register_vacancy(
        s, org, {"dwelling_id": dwelling_id, "available_from": date(2024, 7, 1)}, rules=rules, now=NOW))


def test_barred_referral_is_kept_and_ranks_first_outside_the_area(store, tokens, rules, db_url):
    _, org = tokens["org"]
    kommune, entries = _world(store, org)

    v1 = _vacancy(store, org, rules, 11)
    assert v1["channel"] == "kommunal_anvisning"
    first = store.transact(lambda s: service.make_offers(s, kommune, v1["vacancy_id"], None, rules=rules, now=NOW))
    by = {(d["applicant_id"], d["outcome"]): d for d in first["decisions"]}
    assert by[(700, "rejected")]["rule"] == "dk.almenboligloven.59.stk6#nr4"
    redirect = by[(700, "redirected")]
    assert redirect["rule"] == "dk.almenboligloven.59.stk6#redirect" and redirect["facts"]["bar"].endswith("#nr4")
    assert [o["applicant_id"] for o in first["offers"]] == [701]          # 701 may live in the udsat area
    [kept] = store.transact(lambda s: follow_ups.list_redirected_referrals(s, kommune, ISHOEJ))
    assert kept["entry_id"] == entries[700] and kept["open"] and kept["decision_id"] == redirect["decision_id"]
    assert kept["from_vacancy_id"] == v1["vacancy_id"] and kept["bar_rule"] == "dk.almenboligloven.59.stk6#nr4"
    store.transact(lambda s: service.refuse_offer(s, kommune, first["offers"][0]["offer_id"], rules=rules, now=NOW))

    # Another udsat dwelling: rejected again, not redirected a second time.
    v2 = _vacancy(store, org, rules, 12)
    second = store.transact(lambda s: service.make_offers(s, kommune, v2["vacancy_id"], None, rules=rules, now=NOW))
    outcomes_700 = [d["outcome"] for d in second["decisions"] if d["applicant_id"] == 700]
    assert outcomes_700 == ["rejected"]
    store.transact(lambda s: service.refuse_offer(s, kommune, second["offers"][0]["offer_id"], rules=rules, now=NOW))
    assert len(store.transact(lambda s: follow_ups.list_redirected_referrals(s, kommune, ISHOEJ))) == 1

    # Outside the area: 700 ranks before 701, whose seniority is 13 years older.
    v3 = _vacancy(store, org, rules, 21)
    outside = store.transact(lambda s: service.make_offers(s, kommune, v3["vacancy_id"], None, rules=rules, now=NOW))
    assert [o["applicant_id"] for o in outside["offers"]] == [700, 701]
    offered = next(d for d in outside["decisions"] if d["applicant_id"] == 700 and d["outcome"] == "offered")
    assert offered["rank"] == 1
    assert "dk.almenboligloven.59.redirect#redirected_referral" in offered["facts"]["priorities_met"]
    assert offered["facts"]["redirect_decision"] == f"store:{redirect['decision_id']}"
    assert offered["facts"]["redirected_from_vacancy"] == str(v1["vacancy_id"])
    lease = store.transact(lambda s: service.accept_offer(s, kommune, outside["offers"][0]["offer_id"], now=NOW))
    assert lease["applicant_id"] == 700 and lease["dwelling_id"] == 21
    [done] = store.transact(lambda s: follow_ups.list_redirected_referrals(s, kommune, ISHOEJ))
    assert not done["open"] and done["entry_status"] == "housed"

    # The next referral dwelling: the housed referral is no candidate any more.
    v4 = _vacancy(store, org, rules, 22)
    last = store.transact(lambda s: service.make_offers(s, kommune, v4["vacancy_id"], None, rules=rules, now=NOW))
    assert [o["applicant_id"] for o in last["offers"]] == [701]
    assert 700 not in {d["applicant_id"] for d in last["decisions"]}

    # `letting explain --db` answers from the store's trail, for the barred and the let dwelling.
    runner = CliRunner()
    res = runner.invoke(app, ["letting", "explain", "--db", db_url, "--applicant", "700", "--dwelling", "11",
                              "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "rejected by rule dk.almenboligloven.59.stk6#nr4" in res.output
    assert "Then redirected by rule dk.almenboligloven.59.stk6#redirect" in res.output
    res = runner.invoke(app, ["letting", "explain", "--db", db_url, "--applicant", "700", "--dwelling", "21",
                              "--json"])
    assert res.exit_code == 0, res.output
    import json
    verdict = json.loads(res.output)["verdict"]
    assert verdict.startswith("Applicant 700 got dwelling 21") and "redirected referral" in verdict
    assert f"decision store:{redirect['decision_id']}" in verdict


def test_redirect_scope_and_one_row_per_entry(store, tokens, rules):
    _, org = tokens["org"]
    kommune, entries = _world(store, org)
    v1 = _vacancy(store, org, rules, 11)
    store.transact(lambda s: service.make_offers(s, kommune, v1["vacancy_id"], None, rules=rules, now=NOW))
    from boligmix.errors import AuthorizationError

    with pytest.raises(AuthorizationError):
        store.transact(lambda s: follow_ups.list_redirected_referrals(s, tokens["muni"][1], ISHOEJ))
    with pytest.raises(AuthorizationError):
        store.transact(lambda s: follow_ups.list_redirected_referrals(s, org, ISHOEJ))
    with pytest.raises(AuthorizationError, match="row-level"):  # row-level person data: not for analysts
        store.transact(lambda s: follow_ups.list_redirected_referrals(
            s, tokens["analyst"][1], ISHOEJ, _pseudo(store)))

    def duplicate(s):
        row = s.scalar(select(RedirectedReferral))
        other = s.scalar(select(Decision.decision_id).where(Decision.decision_id != row.decision_id))
        s.add(RedirectedReferral(entry_id=row.entry_id, applicant_id=row.applicant_id, municipality_code=ISHOEJ,
                                 from_vacancy_id=row.from_vacancy_id, decision_id=other, bar_rule="x",
                                 policy_id="x", policy_version="1"))
        s.flush()

    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        store.transact(duplicate)


def _pseudo(store):
    from boligmix.letting.store.auth import Pseudonymiser

    with store.read() as s:
        return Pseudonymiser.load(s)


def test_explain_needs_one_source(tmp_path):
    res = CliRunner().invoke(app, ["letting", "explain", "--applicant", "1", "--dwelling", "1"])
    assert res.exit_code == 2 and "--decisions" in res.output


def _rows_one_by_one(s, rows, *, actor, at, below=None, as_of=None):
    """A round's decisions one row each, as the store wrote them before the compact form (0016)."""
    from types import SimpleNamespace

    from sqlalchemy import insert

    from boligmix.letting.store.models import Decision
    from boligmix.letting.store.trail import _unpack_below, pack_below

    for row in rows:
        s.execute(insert(Decision.__table__).values(**row))
    if below is not None and below.entries:  # the candidates ranked below the offers, one row each too
        first = rows[0]
        like = SimpleNamespace(decision_id=0, created_at=at, vacancy_id=first["vacancy_id"],
                               dwelling_id=first["dwelling_id"], actor=actor)
        for d in _unpack_below(like, pack_below(below, first["channel"]), 0):
            s.execute(insert(Decision.__table__).values(
                created_at=at, outcome=d.outcome, vacancy_id=d.vacancy_id, dwelling_id=d.dwelling_id,
                channel=d.channel, offer_id=None, entry_id=d.entry_id, applicant_id=d.applicant_id,
                household_id=d.household_id, rank=d.rank, rule=d.rule, rule_version=d.rule_version, law=d.law,
                reason=d.reason, facts=d.facts, unknown_facts=d.unknown_facts, actor=actor))
    return None


def test_migration_0006_keeps_rows_foreign_keys_and_the_append_only_trail(tmp_path, monkeypatch):
    """Upgrading a SQLite store with § 51 b entitlements and offers (which refer to decisions and
    applicants) from 0005 recreates both tables (0006, 0007): rows and references survive and the
    trail stays append-only. The round is written one row per decision, as before 0016 (whose
    `round` outcome the 0005 schema refuses); the trail reads those rows as they are."""
    from sqlalchemy.exc import DBAPIError

    from boligmix.letting.store import rounds
    from boligmix.letting.store.trail import trail

    monkeypatch.setattr(rounds, "write_round", _rows_one_by_one)

    from boligmix.letting.store.db import Store
    from boligmix.letting.store.migrate import head_revision, upgrade

    import test_letting_store_follow_ups as f

    from sqlalchemy import inspect

    from boligmix.letting.store.models import Base

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    assert upgrade(url, "0005") == "0005"  # then to the head: 0006 recreates decisions, 0007 applicants
    store = Store(url, pool_size=1)
    # The rows are written through today's models, which insert the columns later migrations add:
    # add those for the seeding and drop them again before the upgrade (the 0005 schema then).
    insp = inspect(store.engine)
    later = [(t.name, c) for t in Base.metadata.sorted_tables if insp.has_table(t.name)
             for c in t.columns if c.name not in {x["name"] for x in insp.get_columns(t.name)}]
    with store.engine.begin() as conn:
        for table, column in later:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column.name} "
                              f"{column.type.compile(dialect=store.engine.dialect)}"))
    _, org = add_token(store, "org1", "housing_organisation", ["ORG1"])
    f._seed(store, org)
    f._round(store, org, EngineRules(load_default_policies(include_local_examples=True)), 1)
    with store.engine.begin() as conn:
        for table, column in later:
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column.name}"))
    with store.read() as s:
        before = s.execute(text("SELECT decision_id, outcome, rule FROM decisions ORDER BY decision_id")).all()
        before_trail = trail(s)
        entries = s.execute(text("SELECT entry_id, applicant_id, list_type FROM applicants ORDER BY entry_id")).all()
        ents = s.execute(text("SELECT decision_id FROM entitlements")).all()
    store.dispose()
    assert ents and upgrade(url) == head_revision()
    store = Store(url, pool_size=1)
    try:
        with store.read() as s:
            assert s.execute(text("SELECT decision_id, outcome, rule FROM decisions ORDER BY decision_id")).all() \
                == before
            assert trail(s) == before_trail and "round" not in {d.outcome for d in before_trail}
            assert len(before_trail) == len(before) > 3  # one row per decision, read as they are
            assert s.execute(text("SELECT decision_id FROM entitlements")).all() == ents
            assert s.execute(text("SELECT entry_id, applicant_id, list_type FROM applicants ORDER BY entry_id")
                             ).all() == entries
            assert s.execute(text("PRAGMA foreign_key_check")).all() == []
        with pytest.raises(DBAPIError):
            store.transact(lambda s: s.execute(text("DELETE FROM decisions")))
    finally:
        store.dispose()


def test_referral_vacancy_without_an_eligible_referral_is_released_to_the_waiting_list(store, tokens, rules):
    """Only the barred referral for an udsat dwelling: the engine releases the vacancy to the waiting
    list (switch unused_referral = release_to_waiting_list); the store follows, so the organisation
    lets it from its list, and the redirect is kept for the municipality's next referral dwelling."""
    from boligmix.errors import AuthorizationError

    _, org = tokens["org"]
    kommune, entries = _world(store, org)
    store.transact(lambda s: service.create_applicant(s, org, {
        "applicant_id": 900, "household_id": 1900, "list_type": "external", "org_id": "ORG1",
        "seniority_date": date(2015, 1, 1), "household": {"members": [_member(9000, True)]}}))
    # 701 holds an open offer elsewhere, so 700 is the only candidate for the udsat dwelling.
    v0 = _vacancy(store, org, rules, 21)
    first = store.transact(lambda s: service.make_offers(s, kommune, v0["vacancy_id"], None, rules=rules, now=NOW))
    assert {o["applicant_id"] for o in first["offers"]} == {700, 701}
    offer_700 = next(o for o in first["offers"] if o["applicant_id"] == 700)
    store.transact(lambda s: service.refuse_offer(s, kommune, offer_700["offer_id"], rules=rules, now=NOW))
    v1 = _vacancy(store, org, rules, 11)
    made = store.transact(lambda s: service.make_offers(s, kommune, v1["vacancy_id"], None, rules=rules, now=NOW))
    assert made["offers"] == [] and made["channel"] == "waiting_list"
    release = [d for d in made["decisions"] if d["outcome"] == "channel"]
    assert [d["rule"] for d in release] == ["k0183.anvisning#unused_referral"]
    assert [d["channel"] for d in release] == ["waiting_list"]             # the channel it was released to
    assert {d["channel"] for d in made["decisions"] if d["applicant_id"] == 700} == {"kommunal_anvisning"}
    assert [d["outcome"] for d in made["decisions"] if d["applicant_id"] == 700] == ["rejected", "redirected"]
    assert store.transact(lambda s: service.get_vacancy(s, org, v1["vacancy_id"]))["channel"] == "waiting_list"
    with pytest.raises(AuthorizationError):  # the municipality's turn is over
        store.transact(lambda s: service.make_offers(s, kommune, v1["vacancy_id"], None, rules=rules, now=NOW))
    listed = store.transact(lambda s: service.make_offers(s, org, v1["vacancy_id"], None, rules=rules, now=NOW))
    assert [o["applicant_id"] for o in listed["offers"]] == [900]


def test_serve_takes_local_policies_and_refuses_bad_ones(tmp_path):
    """`boligmix serve --policies DIR`: the municipality's agreements (e.g. Ishøj's 100 % anvisning)
    on top of the statutory policies; a bad file stops the server before it serves (exit 2, file,
    rule and field named)."""
    from boligmix.errors import ConfigurationError
    from boligmix.letting.policy import POLICY_DIR
    from boligmix.web.app import make_rules

    local = make_rules("engine", [str(POLICY_DIR / "local")])
    assert local.policies.get("k0183.anvisning").spec.shares["kommunal_anvisning"] == 1.0
    with pytest.raises(KeyError):
        make_rules("engine").policies.get("k0183.anvisning")
    with pytest.raises(ConfigurationError, match="--rules engine"):
        make_rules("store-order", [str(POLICY_DIR / "local")])
    (tmp_path / "bad.yaml").write_text(
        "id: k1.wl\nbase: dk.venteliste\nversion: '1'\neffective_from: 2010-01-01\n"
        "scope: {municipality_codes: [461]}\nswitches: {reactivation_keeps_seniority: maybe}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "s.sqlite"), "--policies", str(tmp_path),
                                   "--port", "1"])
    assert res.exit_code == 2
    assert "bad.yaml" in res.output and "switches.reactivation_keeps_seniority" in res.output


_worlds = itertools.count()
PLAN = st.lists(st.tuples(st.booleans(),          # the dwelling is in an udsat area
                          st.booleans(),          # the new referral is barred (§ 59 stk. 6 nr. 4)
                          st.integers(0, 3)),     # which offer is accepted (3: none)
                min_size=1, max_size=8)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=PLAN)
def test_property_barred_referrals_are_never_let_in_the_udsat_area(store, tokens, rules, plan):
    """Random Ishøj referral vacancies in and outside an udsat area with barred and clean referrals:
    no barred referral is let in the udsat area, each is redirected at most once (one row, one
    decision), and an open redirect that is offered is offered first."""
    _, org = tokens["org"]
    world = next(_worlds)
    _, kommune = add_token(store, f"ishoej{world}", "municipality", [str(ISHOEJ)])
    base = 100_000 * (world + 1)

    def setup(s):
        for dep, cats in [(f"U{world}", ["udsat"]), (f"O{world}", [])]:
            service.register_department(s, org, {"department_id": dep, "org_id": "ORG1", "department_name": dep,
                                                 "municipality_code": ISHOEJ, "area_id": dep,
                                                 "area_categories": cats, "facts": {}})
    store.transact(setup)
    barred: set[int] = set()
    udsat_dwellings: set[int] = set()
    for j, (udsat, is_barred, pick) in enumerate(plan):
        aid = dwelling_id = base + j
        if is_barred:
            barred.add(aid)
        if udsat:
            udsat_dwellings.add(dwelling_id)

        def step(s, aid=aid, dwelling_id=dwelling_id, udsat=udsat, is_barred=is_barred, j=j):
            service.register_dwelling(s, org, {"dwelling_id": dwelling_id, "department_id": f"{'U' if udsat else 'O'}"
                                               f"{world}", "rooms": 2, "floor_area_m2": 60.0,
                                               "monthly_rent_dkk": 5000.0})
            service.create_applicant(s, kommune, {
                "applicant_id": aid, "list_type": "municipal_referral", "municipality_code": ISHOEJ,
                "seniority_date": date(2010, 1, 1) + timedelta(days=j * 37 % 400),
                "household": {"members": [_member(aid, not is_barred)]}})
        store.transact(step)
        pending = {r["applicant_id"] for r in store.transact(
            lambda s: follow_ups.list_redirected_referrals(s, kommune, ISHOEJ)) if r["open"]}
        v = _vacancy(store, org, rules, dwelling_id)
        assert v["channel"] == "kommunal_anvisning"          # Ishøj: 100 % anvisning
        made = store.transact(lambda s: service.make_offers(s, kommune, v["vacancy_id"], None, rules=rules, now=NOW))
        offers = made["offers"]
        if not udsat and pending & {o["applicant_id"] for o in offers}:
            assert offers[0]["applicant_id"] in pending      # redirected referrals rank first
        for k, o in enumerate(offers):  # the others refuse, then the picked one accepts
            if k != pick:
                store.transact(lambda s, o=o: service.refuse_offer(s, kommune, o["offer_id"], rules=rules, now=NOW))
        if pick < len(offers):
            store.transact(lambda s: service.accept_offer(s, kommune, offers[pick]["offer_id"], now=NOW))
    in_world = (base, base + 100)
    with store.read() as s:
        leases = s.execute(text("SELECT applicant_id, dwelling_id FROM leases")).all()
        rows = s.scalars(select(RedirectedReferral.applicant_id).where(
            RedirectedReferral.applicant_id.between(*in_world))).all()
        redirected = s.scalars(select(Decision.applicant_id).where(
            Decision.outcome == "redirected", Decision.applicant_id.between(*in_world))).all()
    for applicant_id, dwelling_id in leases:
        if applicant_id in barred:
            assert dwelling_id not in udsat_dwellings
    assert len(redirected) == len(set(redirected)) == len(rows) and set(rows) == set(redirected)
    assert set(redirected) <= barred
    event(f"redirects={bool(redirected)} barred let={bool(barred & {a for a, _ in leases})}")
