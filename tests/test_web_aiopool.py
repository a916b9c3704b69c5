"""`web.aiopool.AsyncPool` when connections cannot be opened (the database is down)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from boligmix.web.aiopool import AsyncPool

DEAD = "host=127.0.0.1 port=9 dbname=none user=nobody connect_timeout=2"


def test_a_failed_connect_frees_its_slot_and_wakes_a_waiter():
    """Callers waiting for a full pool's slot are woken when the connect that held it fails: each
    then tries (and fails) itself instead of waiting for ever."""
    async def main():
        async def silent(reader, writer):  # accepts and never answers: a connect waits for its timeout
            await reader.read()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = AsyncPool(f"host=127.0.0.1 port={port} dbname=none user=nobody connect_timeout=1", size=1)
        try:
            results = await asyncio.wait_for(asyncio.gather(*(pool.acquire() for _ in range(2)),
                                                            return_exceptions=True), timeout=12)
        finally:
            server.close()
        return pool, results

    pool, results = asyncio.run(main())
    assert len(results) == 2 and all(isinstance(r, psycopg.OperationalError) for r in results), results
    assert pool._open == 0 and not pool._waiters and not pool._idle


def test_a_failed_connect_raises_the_database_error():
    with pytest.raises(psycopg.OperationalError):
        asyncio.run(AsyncPool(DEAD, size=2).acquire())
