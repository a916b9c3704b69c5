"""`boligmix serve --threads N` reaches the server: a started app's anyio thread limiter (the pool
that runs every synchronous handler and dependency, each thread on one pooled connection) has N
tokens, with one worker (the app itself) and with several (through the workers' environment)."""

from __future__ import annotations

import os
import threading
import time

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from boligmix.cli import serve as serve_cmd
from boligmix.errors import ConfigurationError
from boligmix.web import listen
from boligmix.web.app import THREADS_ENV, create_app, create_app_from_env


async def _limiter_tokens() -> float:
    return anyio.to_thread.current_default_thread_limiter().total_tokens


def _started_tokens(app) -> float:
    with TestClient(app) as client:
        return client.portal.call(_limiter_tokens)


def test_threads_is_the_started_apps_thread_limit(db_url):
    assert _started_tokens(create_app(db_url, fast_path=False, threads=3)) == 3
    assert _started_tokens(create_app(db_url, fast_path=False)) == 40  # anyio's default, untouched


def test_with_one_thread_requests_run_their_handlers_one_at_a_time(db_url, tokens):
    """The limit is real: 4 requests sent at once never have two handler threads inside the
    identity lookup together with threads=1, and do with the default."""

    def most_at_once(threads: int | None) -> int:
        app = create_app(db_url, fast_path=False, threads=threads)
        inside, most, lock = [0], [0], threading.Lock()
        read = app.state.store.read

        def slow_read(*a, **k):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with lock:
                inside[0] -= 1
            return read(*a, **k)

        app.state.store.read = slow_read
        headers = {"Authorization": f"Bearer {tokens['org'][0]}"}
        with TestClient(app) as client:
            results = [None] * 4

            def one(i: int) -> None:
                results[i] = client.get("/api/whoami", headers=headers).status_code

            workers = [threading.Thread(target=one, args=(i,)) for i in range(4)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            assert results == [200] * 4
        return most[0]

    assert most_at_once(1) == 1
    assert most_at_once(None) > 1


def test_the_warm_up_warms_no_more_connections_than_threads(db_url):
    app = create_app(db_url, fast_path=False, threads=2, warm_connections=3)
    with TestClient(app):
        assert app.state.warm_up.connections == 2
    app = create_app(db_url, fast_path=False, threads=4, warm_connections=3)
    with TestClient(app):
        assert app.state.warm_up.connections == 3


def test_serve_defaults_to_two_threads_per_worker():
    import inspect

    assert inspect.signature(serve_cmd.serve).parameters["threads"].default == serve_cmd.DEFAULT_THREADS == 2


def test_threads_below_one_is_a_configuration_error(db_url):
    with pytest.raises(ConfigurationError, match="threads"):
        create_app(db_url, fast_path=False, threads=0)


def test_serve_hands_threads_to_its_workers(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'letting.sqlite'}"
    started: list[float] = []

    def run_workers(config) -> None:  # what a worker process does: the app factory from the environment
        assert config.app == "boligmix.web.app:create_app_from_env"
        started.append(_started_tokens(create_app_from_env()))

    monkeypatch.setattr(listen, "supported", lambda: True)
    monkeypatch.setattr(listen, "run_workers", run_workers)
    for name in ("BOLIGMIX_LETTING_DB", THREADS_ENV, "BOLIGMIX_LETTING_RULES", "BOLIGMIX_LETTING_POLICIES",
                 "BOLIGMIX_LETTING_FAST_PATH", "BOLIGMIX_LETTING_WARM_UP"):
        monkeypatch.delenv(name, raising=False)
    serve_cmd.serve(db=url, workers=2, threads=5, warm_up=0, quiet=True)
    assert os.environ[THREADS_ENV] == "5"
    serve_cmd.serve(db=url, workers=2, threads=0, warm_up=0, quiet=True)  # 0: anyio's default
    assert started == [5, 40]


def test_serve_with_one_worker_starts_the_app_with_its_threads(tmp_path, monkeypatch):
    import uvicorn

    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: apps.append(app))
    serve_cmd.serve(db=f"sqlite:///{tmp_path / 'letting.sqlite'}", workers=1, threads=2, warm_up=0, quiet=True)
    assert _started_tokens(apps[0]) == 2
