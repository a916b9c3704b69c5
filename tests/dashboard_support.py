"""A small synthetic dataset and a dashboard served in-process (uvicorn on a free loopback port)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import polars as pl

SEED = 11
YEARS = (2014, 2024)
MIX_YEARS = 3
ARTIFACTS = Path(os.environ.get("BOLIGMIX_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent
                                / "test-artifacts")) / "dashboard"


@lru_cache(maxsize=1)
def dataset_dir() -> Path:
    from boligmix.data.synth import write_synthetic

    root = Path(tempfile.mkdtemp(prefix="boligmix-dashboard-test-"))
    return write_synthetic(root / "small", scale="small", seed=SEED, years=YEARS)


@lru_cache(maxsize=1)
def default_dashboard():
    """The dashboard data of `dataset_dir()` under the default disclosure policy (one per process)."""
    from boligmix.web.dashboard import load_dashboard

    return load_dashboard(dataset_dir(), mix_years=MIX_YEARS)


def protected_module_results(root: Path, area_id: str, municipality_code: int, policy) -> Path:
    """A results directory as a module would publish it: `monitor/warnings.csv` passed `protect`
    (one small count among them), and `plan/raw.csv` that did not (it must be refused)."""
    from boligmix.report.disclosure import protect

    frame = pl.DataFrame({"area_id": [area_id, area_id], "municipality_code": [municipality_code] * 2,
                          "year": [2023, 2024], "warning": ["ledighed stiger", "uddannelse falder"],
                          "n_households": [2, 75], "score": [0.25, 1.5]})
    (root / "monitor").mkdir(parents=True, exist_ok=True)
    protect(frame, counts=["n_households"], policy=policy).frame.write_csv(root / "monitor" / "warnings.csv")
    (root / "plan").mkdir(parents=True, exist_ok=True)
    frame.write_csv(root / "plan" / "raw.csv")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """Run `app` with uvicorn in a thread on a free loopback port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
