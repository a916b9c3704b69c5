"""A small pool of async psycopg connections for one server process (one event loop).

Connections are opened on demand up to `size` and kept open; callers beyond that wait for one to
be released. A connection that failed or is left inside a transaction is closed, not reused.
Connections are in autocommit mode: callers issue `BEGIN` and `COMMIT` themselves.
"""

from __future__ import annotations

import asyncio
from collections import deque

import psycopg
from psycopg.pq import TransactionStatus


class AsyncPool:
    def __init__(self, conninfo: str, size: int) -> None:
        self.conninfo, self.size = conninfo, size
        self._idle: list[psycopg.AsyncConnection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[psycopg.AsyncConnection | None]] = deque()
        self._closing: set[asyncio.Task[None]] = set()  # references, so the close tasks are not collected

    async def acquire(self) -> psycopg.AsyncConnection:
        while True:
            if self._idle:
                return self._idle.pop()
            if self._open < self.size:
                self._open += 1
                try:
                    return await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                except BaseException:
                    self._open -= 1
                    self._hand_over(None)  # a waiter may take the free slot (and try to connect itself)
                    raise
            waiter: asyncio.Future[psycopg.AsyncConnection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            conn = await waiter
            if conn is not None:
                return conn  # else a connection was closed: a slot is free, try again

    def release(self, conn: psycopg.AsyncConnection, *, broken: bool = False) -> None:
        if broken or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            self._open -= 1
            if not conn.closed:
                task = asyncio.get_running_loop().create_task(conn.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            conn = None  # type: ignore[assignment]
        self._hand_over(conn)

    def _hand_over(self, conn: psycopg.AsyncConnection | None) -> None:
        """Give `conn` to the first waiter, or keep it idle; None tells a waiter that a slot is free."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is not None:
            self._idle.append(conn)

    async def warm(self, n: int) -> int:
        """Open connections (at once) until `n` (at most `size`) are idle, before the first request
        needs them (issue 11: the fast path's first accepts waited for their connections to be
        opened and authenticated); return how many are idle. A failure closes the ones this call
        opened and raises."""
        want = max(0, min(n, self.size - self._open + len(self._idle)) - len(self._idle))
        if want == 0:
            return len(self._idle)
        self._open += want
        got = await asyncio.gather(*(psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                                     for _ in range(want)), return_exceptions=True)
        opened = [c for c in got if isinstance(c, psycopg.AsyncConnection)]
        failed = [e for e in got if isinstance(e, BaseException)]
        if failed:
            self._open -= want
            for conn in opened:
                await conn.close()
            raise failed[0]
        self._idle.extend(opened)
        return len(self._idle)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            self._open -= 1
            await conn.close()
