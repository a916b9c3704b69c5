"""The letting cycle's hot routes (`boligmix.web.hot_routes`) answer as the full FastAPI app: the
same statuses, bodies, headers and idempotency records, the same access checks, and every unusual
request handed to the full app (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from boligmix.letting.store.models import ApiToken, utcnow
from boligmix.letting.store.selection import StoreOrderRules
from boligmix.web.app import create_app

from store_support import seed_applicants, seed_stock

VOLATILE = {"vacancy_id", "dwelling_id", "offer_id", "lease_id", "created_at", "answer_deadline", "offered_at",
            "entry_id", "applicant_id", "household_id", "answered_at", "lease_start", "trail",
            "seniority_date"}


def _h(tokens, who, key=None):
    headers = {"Authorization": f"Bearer {tokens[who][0]}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


def _differences(a, b, at=""):
    """Where `a` and `b` differ but for the ids and times of different rows."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{at}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a if k not in VOLATILE for d in _differences(a[k], b[k], f"{at}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{at}: {len(a)} against {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _differences(x, y, f"{at}[{i}]")]
    return [] if a == b else [f"{at}: {a!r} != {b!r}"]


def _same(a, b):
    """Equal but for the ids and times of different rows."""
    return not _differences(a, b)


def test_hot_routes_answer_as_the_full_app(db_url, store, tokens):
    _, org = tokens["org"]
    dws = seed_stock(store, org, dwellings=6)
    seed_applicants(store, org, 8)
    hot_app = create_app(db_url, pool_size=2, rules=StoreOrderRules())
    full_app = create_app(db_url, pool_size=2, rules=StoreOrderRules(), fast_path=False)
    assert full_app.state.hot_route_stats is None
    org_h = _h(tokens, "org")
    with TestClient(hot_app) as hot, TestClient(full_app) as full:
        stats = hot_app.state.hot_route_stats
        # a token not seen yet: the full app authenticates it (and caches the identity)
        first = hot.post("/api/vacancies", json={"dwelling_id": dws[0], "available_from": "2025-01-01"}, headers=org_h)
        assert first.status_code == 201 and (stats.answered, stats.delegated) == (0, 1)
        a = hot.post("/api/vacancies", json={"dwelling_id": dws[1], "available_from": "2025-01-01"}, headers=org_h)
        b = full.post("/api/vacancies", json={"dwelling_id": dws[2], "available_from": "2025-01-01"}, headers=org_h)
        assert a.status_code == b.status_code == 201 and stats.answered == 1
        assert _same(a.json(), b.json()) and a.json()["dwelling_id"] == dws[1]
        assert a.headers["content-type"] == b.headers["content-type"] == "application/json"
        # a conflict raised by the write: the full app's 409 body
        again = [c.post("/api/vacancies", json={"dwelling_id": dws[1], "available_from": "2025-01-01"},
                        headers=org_h) for c in (hot, full)]
        assert again[0].status_code == again[1].status_code == 409 and again[0].json() == again[1].json()
        assert stats.answered == 2
        # idempotency: a key used here replays in both apps; another body with it is 422 in both
        body = {"dwelling_id": dws[3], "available_from": "2025-02-01"}
        keyed = hot.post("/api/vacancies", json=body, headers=_h(tokens, "org", "k1"))
        assert keyed.status_code == 201 and "idempotency-replayed" not in keyed.headers
        for c in (hot, full):
            replay = c.post("/api/vacancies", json=body, headers=_h(tokens, "org", "k1"))
            assert replay.status_code == 201 and replay.json() == keyed.json()
            assert replay.headers["Idempotency-Replayed"] == "true"
        mismatch = [c.post("/api/vacancies", json={**body, "available_from": "2025-03-01"},
                           headers=_h(tokens, "org", "k1")) for c in (hot, full)]
        assert mismatch[0].status_code == mismatch[1].status_code == 422
        assert mismatch[0].json() == mismatch[1].json()
        # offer rounds and an accept through the hot routes
        offers = [c.post(f"/api/vacancies/{v.json()['vacancy_id']}/offers", json={"count": 2}, headers=org_h)
                  for c, v in ((hot, a), (full, b))]
        assert offers[0].status_code == offers[1].status_code == 201 and not _differences(offers[0].json(), offers[1].json()), \
            _differences(offers[0].json(), offers[1].json())
        empty = hot.post(f"/api/vacancies/{keyed.json()['vacancy_id']}/offers", headers=org_h)  # no body: the default
        assert empty.status_code == 201 and len(empty.json()["offers"]) == 1
        missing = [c.post("/api/vacancies/999999/offers", json={"count": 1}, headers=org_h) for c in (hot, full)]
        assert missing[0].status_code == missing[1].status_code == 404 and missing[0].json() == missing[1].json()
        accepted = [c.post(f"/api/offers/{o.json()['offers'][0]['offer_id']}/accept", headers=org_h)
                    for c, o in ((hot, offers[0]), (full, offers[1]))]
        assert accepted[0].status_code == accepted[1].status_code == 201
        assert _same(accepted[0].json(), accepted[1].json())
        answered = stats.answered
        # handed over before anything is written: the full app's answers
        delegated = stats.delegated
        cases = [
            ("/api/vacancies", {"dwelling_id": dws[4]}, org_h, 422),                        # the body model refuses
            ("/api/vacancies", {"dwelling_id": dws[4], "available_from": "2025-01-01", "x": 1}, org_h, 422),
            ("/api/vacancies", {"dwelling_id": dws[4], "available_from": "2025-01-01"},
             _h(tokens, "muni"), 403),                                                       # the route refuses the role
            ("/api/vacancies", {"dwelling_id": dws[4], "available_from": "2025-01-01"},
             _h(tokens, "analyst"), 403),
            (f"/api/vacancies/{2**31}/offers", {"count": 1}, org_h, 422),                    # beyond 32 bits
            ("/api/vacancies", {"dwelling_id": dws[4], "available_from": "2025-01-01"},
             {"Authorization": "Bearer bmx_unknown"}, 401),
        ]
        for path, payload, headers, status in cases:
            answers = [c.post(path, json=payload, headers=headers) for c in (hot, full)]
            assert answers[0].status_code == answers[1].status_code == status, (path, answers[0].text)
            assert answers[0].json() == answers[1].json()
        not_json = [c.post("/api/vacancies", content=b"dwelling_id=5", headers={**org_h, "Content-Type": "text/plain"})
                    for c in (hot, full)]
        assert not_json[0].status_code == not_json[1].status_code and not_json[0].json() == not_json[1].json()
        assert stats.answered == answered and stats.delegated == delegated + len(cases) + 1
        # a token revoked after its identity was cached: refused in the write's transaction, as the full app does
        with store.write() as s:
            s.get(ApiToken, tokens["org"][1].token_id).revoked_at = utcnow()
        revoked = [c.post("/api/vacancies", json={"dwelling_id": dws[5], "available_from": "2025-01-01"},
                          headers=org_h) for c in (hot, full)]
        assert revoked[0].status_code == revoked[1].status_code == 401
        assert revoked[0].json() == revoked[1].json()
        assert revoked[0].headers["WWW-Authenticate"] == revoked[1].headers["WWW-Authenticate"] == "Bearer"
        assert stats.answered == answered + 1


def test_without_the_fast_path_the_full_app_answers(db_url, store, tokens):
    """`fast_path=False` (the benchmark's `--no-fast-path`): no hot route, no fast path."""
    app = create_app(db_url, pool_size=2, rules=StoreOrderRules(), fast_path=False)
    assert app.state.hot_route_stats is None and app.state.fast_path_stats is None
    assert not [m for m in app.user_middleware if m.cls.__name__ in ("HotRoutes", "FastPath")]
    hot = create_app(db_url, pool_size=2, rules=StoreOrderRules())
    assert [m.cls.__name__ for m in hot.user_middleware].count("HotRoutes") == 1


def test_every_hot_route_is_an_api_route_with_an_access_rule(db_url):
    """A hot route names a real route of the app and its row of `access.ROUTES` (the one route check),
    and its pattern takes exactly that route's paths."""
    from fastapi.routing import APIRoute

    from boligmix.letting.store import access

    app = create_app(db_url, pool_size=1, rules=StoreOrderRules())
    (hot,) = [m for m in app.user_middleware if m.cls.__name__ == "HotRoutes"]
    api = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    routes = hot.kwargs["routes"]
    assert {(r.method, r.route) for r in routes} == {("POST", "/api/vacancies"),
                                                     ("POST", "/api/vacancies/{vacancy_id}/offers"),
                                                     ("POST", "/api/offers/{offer_id}/accept")}
    for r in routes:
        assert (r.method, r.route) in api and (r.method, r.route) in access.ROUTES
        example = r.route.replace("{vacancy_id}", "12").replace("{offer_id}", "12")
        assert r.pattern.fullmatch(example) and not r.pattern.fullmatch(example + "/x")
        if "{" in r.route:
            assert not r.pattern.fullmatch(r.route.replace("{vacancy_id}", "x").replace("{offer_id}", "x"))
