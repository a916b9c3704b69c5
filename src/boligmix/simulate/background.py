"""Steps of the year on the second core: a step started on a thread of its own while the caller goes
on with work that reads nothing the step writes (and writes nothing it reads). The steps so run are
polars queries and nogil numba kernels, which run without Python's GIL, so the two overlap; the
results are those of running them one after the other."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any


def in_background(fn: Callable[..., Any], *args: Any) -> Future:
    """`fn(*args)` started on a thread of its own; `.result()` waits for it (and raises what it raised)."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 -- raised again by the caller's result()
            future.set_exception(exc)

    threading.Thread(target=run, name=f"boligmix-{getattr(fn, '__name__', 'step')}", daemon=True).start()
    return future


__all__ = ["in_background"]
