"""CPU per request of the letting cycle through the API's ASGI app, in the process (no HTTP, no sockets).

    PYTHONPATH=src python benchmarks/bench_letting_asgi.py [--db POSTGRES_ADMIN_URL] [--cycles 100]
        [--applicants 2000] [--without hot-routes|fast-path|both]

Calls the app built by `create_app` (statutory engine rules, 2 handler threads, warmed as `serve`
warms it) directly as an ASGI application on one event loop, one request at a time: register a
vacancy, an offer round of one offer, the accept (the municipality's quarter of the vacancies, the
statutory 1/4, is registered but not offered or let). Prints the CPU of the process
(`time.process_time`: every thread, the database server's CPU not counted) per request type, after
five untimed cycles. Between the service called directly (`bench_letting_requests.py`) and this lies
the API's own layer: routing, validation, the token check, the idempotency wrapper, thread hops and
the JSON answer; `--without` removes `hot-routes` (`boligmix.web.hot_routes`: the FastAPI app answers
registration and offer rounds), `fast-path` (the accept goes through the full app), or both, for
alternating comparisons. Without --db: a fresh SQLite file (no fast path there); with --db (e.g.
$BOLIGMIX_TEST_PG_URL) a fresh database `boligmix_bench_asgi`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from letting_bench_db import fresh_database, register_stock  # noqa: E402

from boligmix.letting.store.auth import Principal, create_token  # noqa: E402
from boligmix.letting.store.db import Store  # noqa: E402
from boligmix.web.app import create_app  # noqa: E402

WARM_UP = 5


async def _call(app: Any, method: str, path: str, body: Any, secret: str) -> tuple[int, Any]:
    payload = b"" if body is None else json.dumps(body).encode()
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {secret}".encode()),
               (b"content-length", str(len(payload)).encode())]
    if body is not None:
        headers.append((b"content-type", b"application/json"))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "path": path,
             "raw_path": path.encode(), "query_string": b"", "root_path": "", "scheme": "http", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)  # (never reached: the handlers read one body)
        return {"type": "http.disconnect"}
    out: dict[str, Any] = {"body": b""}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")
    await app(scope, receive, send)
    return out["status"], json.loads(out["body"] or b"null")


async def _run(app: Any, secret: str, cycles: int, dwellings: int) -> tuple[dict[str, float], int]:
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await startup.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, startup.get, replies.put))
    started = await replies.get()
    if started["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started}")
    cpu = {"register": 0.0, "offers": 0.0, "accept": 0.0}
    done = 0
    for dwelling in range(1, dwellings + 1):
        if done == WARM_UP + cycles:
            break
        timed = done >= WARM_UP
        t0 = time.process_time()
        status, v = await _call(app, "POST", "/api/vacancies", {"dwelling_id": dwelling, "available_from": "2025-06-01"},
                                secret)
        t1 = time.process_time()
        if status != 201:
            raise RuntimeError(f"registration answered {status}: {v}")
        if v["channel"] != "waiting_list":
            continue  # the municipality's vacancy: not offered here
        status, made = await _call(app, "POST", f"/api/vacancies/{v['vacancy_id']}/offers", {"count": 1}, secret)
        t2 = time.process_time()
        if status != 201 or not made["offers"]:
            raise RuntimeError(f"the offer round answered {status}: {made}")
        status, lease = await _call(app, "POST", f"/api/offers/{made['offers'][0]['offer_id']}/accept", None, secret)
        t3 = time.process_time()
        if status != 201:
            raise RuntimeError(f"the accept answered {status}: {lease}")
        if timed:
            cpu["register"] += t1 - t0
            cpu["offers"] += t2 - t1
            cpu["accept"] += t3 - t2
        done += 1
    await startup.put({"type": "lifespan.shutdown"})
    await lifespan
    return cpu, done - WARM_UP


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default=None)
    ap.add_argument("--applicants", type=int, default=2000)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--without", choices=("hot-routes", "fast-path", "both"), default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, "boligmix_bench_asgi", tmp)
        store = Store(url)

        def token(s):  # type: ignore[no-untyped-def]
            secret, row = create_token(s, name="bench", role="housing_organisation", scope=["ORG"])
            return secret, Principal(row.token_id, row.name, row.role, frozenset(row.scope))
        secret, org = store.transact(token)
        dwellings = 2 * (args.cycles + WARM_UP) + 8  # every fourth vacancy is the municipality's (1/4 share)
        store.transact(lambda s: register_stock(s, org, dwellings, args.applicants, "B"))
        store.dispose()
        app = create_app(url, threads=2, warm_connections=2)
        drop = {"hot-routes": {"HotRoutes"}, "fast-path": {"FastPath"}, "both": {"HotRoutes", "FastPath"}}.get(
            args.without or "", set())
        app.user_middleware[:] = [m for m in app.user_middleware if m.cls.__name__ not in drop]
        cpu, n = asyncio.run(_run(app, secret, args.cycles, dwellings))
        app.state.store.dispose()
    layers = ", ".join(m.cls.__name__ for m in app.user_middleware) or "none"
    print(f"{app.state.store.dialect}: {args.applicants} applicants, {n} waiting-list cycles through the ASGI app "
          f"(front layers: {layers}); CPU per request: "
          + ", ".join(f"{k} {1000 * v / n:.2f} ms" for k, v in cpu.items())
          + f"; per cycle {1000 * sum(cpu.values()) / n:.2f} ms; load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
