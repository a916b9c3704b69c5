"""A worker's kept ranking (`store.kept_ranking`): over random sequences of rounds, answers and changes
to the list, every offer round taken from the kept ranking decides exactly as the engine's round over
the whole list without it (`EngineRules(keep_ranking=False)`): the same offers (entries, ranks,
rules, deadlines), the same outcome counts and the same trail, decision by decision (read back from
the stored compact round rows, as `letting explain --db` reads them). SQLite and PostgreSQL.

The rules are the statutory set with the example § 51 b kombineret udlejning policy of municipality
101 (as `test_letting_store_follow_ups.py`), so rounds in the listed area reject applicants on
benefits and grant entitlements, whose holders rank first outside the area; dwellings of 2, 3 and 4
rooms make several round contexts per list, and households of 1-6 persons meet or fail the size rule.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from boligmix.errors import ConflictError
from boligmix.letting.ranking import meeting_lapsing_rules
from boligmix.letting.store import answers, kept_ranking, list_cache, service
from boligmix.letting.store.db import Store
from boligmix.letting.store.engine_rules import EngineRules
from boligmix.letting.store.follow_ups import update_applicant, withdraw_applicant
from boligmix.letting.store.models import Applicant, Offer, Vacancy

from store_support import MUNI, ORG, add_token

NOW = datetime(2024, 6, 15, 10, 0)
DEPARTMENTS = {"ORG1-KU": ["kombineret_udlejning"], "ORG1-OUT": []}
ROOMS = (2, 3, 4)


@pytest.fixture(scope="module")
def policies():
    from boligmix.letting.policy import POLICY_DIR, load_policies

    folder = Path(tempfile.mkdtemp(prefix="kept_ranking_"))
    for f in (POLICY_DIR / "local").glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    k = folder / "k0101_kombineret.yaml"
    k.write_text(k.read_text(encoding="utf-8").replace(
        "switches:\n", "switches:\n  offer_elsewhere_by: organisation\n"), encoding="utf-8")
    yield load_policies([POLICY_DIR / "statutory", folder])
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request, sqlite_template, tmp_path):
    """A factory of freshly migrated databases (one per Hypothesis example)."""
    made: list[str] = []
    counter = iter(range(10**6))

    def new() -> str:
        if request.param == "sqlite":
            path = tmp_path / f"kept-{next(counter)}.sqlite"
            shutil.copy(sqlite_template, path)
            return f"sqlite:///{path}"
        url = request.getfixturevalue("pg_databases").new()
        made.append(url)
        return url

    yield new
    if made:
        dbs = request.getfixturevalue("pg_databases")
        for url in made:
            dbs.drop(url)


def _household(pid: int, size: int, benefit: str | None) -> dict:
    spells = [{"benefit": benefit, "first_month": "2023-01-01", "last_month": "2024-05-01"}] if benefit else []
    hist = {"known_from": "2020-01-01", "known_to": "2024-06-01", "spells": spells}
    members = [{"person_id": pid, "role": "applicant", "birth_date": "1985-01-01", "benefits": hist,
                "facts": {"eu_eea_ch_citizen": True}}]
    if size > 1:
        members.append({"person_id": pid + 1, "role": "spouse", "birth_date": "1986-01-01",
                        "cohabiting_since": "2010-01-01", "benefits": hist, "facts": {"eu_eea_ch_citizen": True}})
    members += [{"person_id": pid + 1 + i, "role": "child", "birth_date": "2015-01-01"} for i in range(1, size - 1)]
    return {"members": members}


def _body(aid: int, draw: int) -> dict:
    """An applicant drawn from `draw`: household size 1-6, on benefits or not, internal or external,
    registered before or after the kombineret udlejning scheme, a few sharing a household id."""
    size = 1 + draw % 6
    benefit = "kontanthjaelp" if draw % 3 == 0 else None
    return {"applicant_id": aid, "household_id": 90_000 + (aid if draw % 11 else aid % 5),
            "list_type": "internal" if draw % 7 == 0 else "external", "org_id": ORG,
            "seniority_date": date(2012, 1, 1) + timedelta(days=(draw * 37) % 4000), "household_size": size,
            "household": _household(aid * 10, size, benefit)}


def _seed(store: Store, org, n: int) -> list[int]:
    def op(s):
        for dep, cats in DEPARTMENTS.items():
            service.register_department(s, org, {"department_id": dep, "org_id": ORG, "department_name": dep,
                                                 "municipality_code": MUNI, "area_id": f"A-{dep}",
                                                 "area_categories": cats, "facts": {}})
        dwellings = []
        for i in range(24):
            dep = list(DEPARTMENTS)[i % 2]
            rooms = ROOMS[(i // 2) % 3]
            dwellings.append(service.register_dwelling(s, org, {
                "dwelling_id": 1 + i, "department_id": dep, "rooms": rooms, "floor_area_m2": 30.0 + 20 * rooms,
                "monthly_rent_dkk": 4000.0 + 1000 * rooms})["dwelling_id"])
        for i in range(n):
            service.create_applicant(s, org, _body(500 + i, i * 7919 + 13))
        return dwellings
    return store.transact(op)


def _normal(out: dict) -> dict:
    """A round's answer without what differs between two runs of one round (ids from sequences,
    creation times)."""
    drop = {"decision_id", "offer_id", "created_at", "decided_at"}
    return {"offers": [{k: v for k, v in o.items() if k not in drop} for o in out["offers"]],
            "outcomes": out["outcomes"], "considered": out["considered"], "channel": out["channel"],
            "exhausted": out["exhausted"],
            "decisions": [{k: v for k, v in d.items() if k not in drop} for d in out["decisions"]]}


STEPS = st.lists(st.tuples(st.sampled_from(["round", "round", "round", "again", "accept", "refuse", "update",
                                            "update", "withdraw", "new"]), st.integers(0, 10**6)),
                 min_size=8, max_size=24)


def _run(url: str, policies, steps) -> tuple[list[dict], list[str]]:
    """Play `steps`; every round is made from the kept ranking and compared with the uncached engine
    round on the same state (rolled back). Returns the rounds compared and what each step did."""
    store = Store(url, pool_size=2)
    kept_rules, plain_rules = EngineRules(policies), EngineRules(policies, keep_ranking=False)
    compared: list[dict] = []
    log: list[str] = []
    try:
        _, org = add_token(store, "org1", "housing_organisation", [ORG])
        dwellings = _seed(store, org, 40)
        next_id = 700

        def round_(vid: int) -> None:
            with store.write() as s:
                plain = service.make_offers(s, org, vid, None, rules=plain_rules, now=NOW)
                s.rollback()
            kept = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=kept_rules, now=NOW))
            assert _normal(kept) == _normal(plain), (vid, kind, log)
            for k in kept_ranking._KEPT.values():  # the count the engine takes for its lapse notes
                assert k.meeting == meeting_lapsing_rules(k.ranked), (vid, kind, log)
            compared.append(kept)

        for kind, draw in steps:
            with store.read() as s:
                open_offers = list(s.scalars(select(Offer.offer_id).where(Offer.status == "open")
                                             .order_by(Offer.offer_id)))
                active = list(s.scalars(select(Applicant.entry_id).where(Applicant.status == "active")
                                        .order_by(Applicant.entry_id)))
                again = list(s.scalars(select(Vacancy.vacancy_id).where(
                    Vacancy.status == "open", Vacancy.channel.in_(("waiting_list", "fleksibel")),
                    ~select(Offer.offer_id).where(Offer.vacancy_id == Vacancy.vacancy_id,
                                                  Offer.status == "open").exists()).order_by(Vacancy.vacancy_id)))
            log.append(kind)
            try:
                if kind == "round" and dwellings:
                    dw = dwellings.pop(draw % len(dwellings))
                    got = store.transact(lambda s: service.register_vacancy(
                        s, org, {"dwelling_id": dw, "available_from": date(2024, 7, 1)}, rules=kept_rules, now=NOW))
                    log[-1] += f" {dw}:{got['channel']}"
                    if got["channel"] in ("waiting_list", "fleksibel"):  # the municipality's quarter is not this list
                        round_(got["vacancy_id"])
                elif kind == "again" and again:
                    round_(again[draw % len(again)])
                elif kind == "accept" and open_offers:
                    oid = open_offers[draw % len(open_offers)]
                    store.transact(lambda s: answers.accept_offer(s, org, oid, rules=kept_rules, now=NOW))
                elif kind == "refuse" and open_offers:
                    oid = open_offers[draw % len(open_offers)]
                    store.transact(lambda s: answers.refuse_offer(s, org, oid, rules=kept_rules, now=NOW))
                elif kind == "update" and active:
                    # half the time an entry the last round ranked (kept by the worker: its change must show)
                    ranked = [d["entry_id"] for d in compared[-1]["decisions"] if d["entry_id"] in active
                              and d["outcome"] in ("offered", "skipped")] if compared else []
                    e = ranked[draw // 2 % len(ranked)] if ranked and draw % 2 else active[draw % len(active)]
                    size = 1 + draw % 6
                    store.transact(lambda s: update_applicant(s, org, e, {
                        "household_size": size, "household": _household(draw, size, None if draw % 2 else "kontanthjaelp")}))
                elif kind == "withdraw" and active:
                    e = active[draw % len(active)]
                    store.transact(lambda s: withdraw_applicant(s, org, e, now=NOW))
                elif kind == "new":
                    next_id += 1
                    store.transact(lambda s: service.create_applicant(s, org, _body(next_id, draw)))
            except ConflictError as exc:
                log[-1] += f" ({exc})"
        return compared, log
    finally:
        store.dispose()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: a failure names its steps
@given(steps=STEPS)
def test_rounds_from_the_kept_ranking_decide_as_the_engine_over_the_whole_list(fresh_url, policies, steps):
    kept_ranking.clear()
    _run(fresh_url(), policies, steps)


def test_a_fixed_sequence_compares_rounds_in_every_kind_of_change(fresh_url, policies, monkeypatch):
    """A sequence with each kind of step several times (so the comparison above is not vacuous):
    rounds in the listed area (rejections, § 51 b entitlements) and outside it, second rounds of a
    vacancy, accepts, refusals, changed and withdrawn entries, new ones. On PostgreSQL rounds take
    the changes since the last round from the list copy's history (`list_cache.changes_since`)."""
    kept_ranking.clear()
    taken: list[int] = []
    changes_since = list_cache.changes_since

    def recording(copy, earlier):  # type: ignore[no-untyped-def]
        got = changes_since(copy, earlier)
        if got is not None:
            taken.append(len(got[0]) + len(got[1]))
        return got
    monkeypatch.setattr(list_cache, "changes_since", recording)
    kinds = ["round", "round", "accept", "update", "round", "refuse", "again", "new", "round", "withdraw",
             "update", "round", "again", "refuse", "round", "update", "new", "round", "accept", "round"]
    url = fresh_url()
    compared, log = _run(url, policies, [(k, 104_729 * (i + 3)) for i, k in enumerate(kinds)])
    if url.startswith("postgresql"):
        assert [n for n in taken if n], (taken, log)  # changes taken from the copy's history
    outcomes = [set(r["outcomes"]) for r in compared]
    assert len(compared) >= 6, log
    assert any("rejected" in o and "entitled" in o for o in outcomes), outcomes  # in the listed area
    assert any(r["offers"] and len(r["decisions"]) > len(r["offers"]) for r in compared)  # ranked below
    assert any(d["facts"].get("priority_right.kombineret_udlejning_tilbud") and d["outcome"] == "offered"
               for r in compared for d in r["decisions"]), log  # an entitlement holder ranked by the loop


def test_a_ranking_held_by_another_round_is_left_alone_and_a_failed_change_drops_it(fresh_url, policies, monkeypatch):
    """The kept ranking is changed in place by the one round holding it: a round that finds it held
    (another thread of the worker) leaves it as it is and is the engine's round over the whole list;
    a round that fails while changing it drops it, releases it, and the next round is again the
    engine's round."""
    kept_ranking.clear()
    store = Store(fresh_url(), pool_size=2)
    kept_rules, plain_rules = EngineRules(policies), EngineRules(policies, keep_ranking=False)
    try:
        _, org = add_token(store, "org1", "housing_organisation", [ORG])
        dwellings = iter(_seed(store, org, 40))
        made = 0

        def round_(vid: int | None = None) -> dict:
            nonlocal made
            while vid is None:
                got = store.transact(lambda s: service.register_vacancy(
                    s, org, {"dwelling_id": next(dwellings), "available_from": date(2024, 7, 1)}, rules=kept_rules,
                    now=NOW))
                if got["channel"] == "waiting_list":
                    vid = got["vacancy_id"]
            with store.write() as s:
                plain = service.make_offers(s, org, vid, None, rules=plain_rules, now=NOW)
                s.rollback()
            out = store.transact(lambda s: service.make_offers(s, org, vid, None, rules=kept_rules, now=NOW))
            assert _normal(out) == _normal(plain)
            assert out["offers"]
            made += 1
            return out

        def refused(out: dict) -> int:
            """Refuse a round's offers (the refusers' counts change): its vacancy's id."""
            for o in out["offers"]:
                store.transact(lambda s: answers.refuse_offer(s, org, o["offer_id"], rules=kept_rules, now=NOW))
            return out["vacancy_id"]

        def snapshot() -> dict:
            return {id(k): (k, list(k.ranked), set(k.entries), [list(c) for c in k.columns])
                    for k in kept_ranking._KEPT.values()}

        first = round_()
        held = snapshot()
        assert held and any(k[1] for k in held.values())
        for k, *_ in held.values():
            assert k.busy.acquire(blocking=False)  # released by the round that made it
        try:  # a second round of the vacancy (the same context) while its ranking is held:
            second = round_(refused(first))  # the engine ranks the whole list, the kept ones stay as they were
            for k, ranked, entries, columns in held.values():
                assert (k.ranked, k.entries, [list(c) for c in k.columns]) == (ranked, entries, columns)
        finally:
            for k, *_ in held.values():
                k.busy.release()
        third = round_(refused(second))  # takes the changes now
        assert any(k.ranked != v[1] or k.entries != v[2] for k in kept_ranking._KEPT.values()
                   for v in held.values() if v[0] is k)

        update = kept_ranking._update
        failed = []

        def failing(kept, *a, **kw):  # type: ignore[no-untyped-def]
            update(kept, *a, **kw)
            del kept.ranked[:3]  # half changed
            failed.append(kept)
            raise RuntimeError("planted failure")
        monkeypatch.setattr(kept_ranking, "_update", failing)
        with pytest.raises(RuntimeError, match="planted"):
            round_(refused(third))
        assert len(failed) == 1 and failed[0] not in kept_ranking._KEPT.values()  # dropped
        assert failed[0].busy.acquire(blocking=False)  # and released
        monkeypatch.setattr(kept_ranking, "_update", update)
        round_(third["vacancy_id"])
        round_()
        assert made >= 5
    finally:
        store.dispose()
