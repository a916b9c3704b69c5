"""Database connections and transactions for the letting store.

`Store(url)` wraps one SQLAlchemy engine. Writes go through `Store.transact(fn)`, which runs
`fn(session)` in one transaction and commits it, retrying on transient conflicts:

* PostgreSQL (multi-user): READ COMMITTED plus row locks (`SELECT ... FOR UPDATE`) taken by the
  service on the vacancy and the applicant before it changes them; deadlocks, serialisation
  failures and a household taken by a concurrent transaction (the unique indexes of one dwelling
  per household, `models.HOUSEHOLD_INDEXES`) are retried.
* SQLite (embedded default): every write transaction starts with `BEGIN IMMEDIATE`, so writes are
  serialised across threads and processes; WAL journal with `synchronous=FULL`, so a committed
  transaction survives a crash of the process.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from boligmix.errors import ConfigurationError
from boligmix.letting.store.models import HOUSEHOLD_INDEXES

T = TypeVar("T")

DEFAULT_DB_URL = "sqlite:///boligmix-letting.sqlite"
"""The embedded default: a SQLite file in the working directory."""

_WRITE = "boligmix_write"
_TRANSIENT_PG_CODES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def normalise_url(url: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (SQLite); PostgreSQL URLs use psycopg 3."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if not (parsed.drivername.startswith("sqlite") or parsed.drivername.startswith("postgresql")):
        raise ConfigurationError(f"unsupported database URL scheme '{parsed.drivername}'; "
                                 "use sqlite:///FILE or postgresql+psycopg://...", field="--db")
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60},
                               pool_size=pool_size, max_overflow=2 * pool_size, hide_parameters=True,
                               json_serializer=dumps_json)
        _configure_sqlite(engine)
        return engine
    # No pre-ping (it costs a round trip per checkout); connections are recycled after 10 minutes and
    # a transaction that fails on a dropped connection is retried by the client with its idempotency key.
    # hide_parameters: error messages (and so logs) never carry a statement's parameters (person data).
    return create_engine(url, pool_size=pool_size, max_overflow=2 * pool_size, pool_recycle=600,
                         isolation_level="READ COMMITTED", hide_parameters=True, json_serializer=dumps_json)


def dumps_json(value: Any) -> str:
    """The JSON text of a JSON column's value (the engines' `json_serializer`): by orjson, some 30
    times faster than `json.dumps` on an offer round's compact trail row (70 kB: ~0.06 against
    2-2.5 ms, once per round); non-string keys become strings as `json.dumps` makes them. A value
    orjson refuses (an integer beyond 64 bits, an unknown type; dates, datetimes and dataclasses,
    which orjson would write but `json.dumps` refuses, are passed on) goes to `json.dumps`, which
    stores it or raises as before; without orjson installed, `json.dumps` does it all."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, option=_OPTIONS).decode()
        except TypeError:  # (orjson.JSONEncodeError is a TypeError)
            pass
    return json.dumps(value)


try:
    import orjson as _orjson
    _OPTIONS = _orjson.OPT_NON_STR_KEYS | _orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS
except ImportError:  # pragma: no cover - a dependency; json.dumps serves without it
    _orjson = None


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        if code in _TRANSIENT_PG_CODES:
            return True
        if code == "23505" and getattr(getattr(exc.orig, "diag", None), "constraint_name", None) in HOUSEHOLD_INDEXES:
            return True  # a concurrent round of another list took the household first: the retry skips it
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
    return False


class Store:
    """One letting database: engine, sessions and transactions."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, pool_size=pool_size)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        # PostgreSQL: reads in READ ONLY transactions ended by COMMIT, not ROLLBACK: psycopg deallocates
        # every prepared statement of a connection at a rollback (its plans would be made again).
        self._read_commits = self.engine.dialect.name == "postgresql"
        read_engine = self.engine.execution_options(postgresql_readonly=True) if self._read_commits else self.engine
        self._read_sessions = sessionmaker(read_engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session: rolled back at the end; on PostgreSQL a READ ONLY transaction (a write
        in it fails) that ends with COMMIT after its objects are detached (nothing to flush), so the
        connection keeps its prepared statements."""
        with self._read_sessions() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            if self._read_commits:
                session.expunge_all()
                session.commit()
            else:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction, committed when the block ends without an exception or with an
        exception marked `keeps_writes` (a refusal that records what it decided, e.g. an expired offer)."""
        with self._write_sessions() as session:
            session.begin()
            try:
                yield session
            except BaseException as exc:
                if getattr(exc, "keeps_writes", False):
                    session.commit()
                else:
                    session.rollback()
                raise
            session.commit()

    def transact(self, fn: Callable[[Session], T], *, retries: int = 8) -> T:
        """Run `fn(session)` in one write transaction; retry it on deadlocks and serialisation failures."""
        for attempt in range(retries + 1):
            try:
                with self.write() as session:
                    return fn(session)
            except DBAPIError as exc:
                if attempt == retries or not _is_transient(exc):
                    raise
                time.sleep(0.005 * (2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        self.engine.dispose()
