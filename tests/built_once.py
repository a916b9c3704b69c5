"""Directories built once per test run and shared by the pytest-xdist workers.

Each worker used to build its own copy of the test datasets and of the slow fixtures' outputs
(`functools.lru_cache` per process; a module fixture once on each worker its tests landed on).
`built_once` builds a directory the first time any worker asks for it, under a file lock in the
run's base temporary directory (the workers' common parent, which pytest removes with its old
runs), and hands every later caller, in any worker, the same directory. Callers read it only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Callable

_RUN_ROOT: list[Path] = []


def set_run_root(base_temp: Path) -> None:
    """Called once per process by the session fixture in conftest.py with pytest's base temporary
    directory; under xdist a worker's base directory lies inside the run's (its parent)."""
    root = (base_temp.parent if os.environ.get("PYTEST_XDIST_WORKER") else base_temp) / "built-once"
    root.mkdir(parents=True, exist_ok=True)
    _RUN_ROOT[:] = [root]


def built_once(name: str, build: Callable[[Path], object]) -> Path:
    """`root/name` after `build(root/name)` has run once in this test run (a failed build is
    cleared and retried by the next caller)."""
    if not _RUN_ROOT:
        raise RuntimeError("built_once needs tests/conftest.py's session fixture (called before any test)")
    target = _RUN_ROOT[0] / name
    done = target.with_name(name + ".done")
    with open(target.with_name(name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            build(target)
            done.touch()
    return target
