"""A one-thread pipeline that builds and writes table chunks while the simulation goes on.

The simulation (numpy, GIL released in its large operations) and the Parquet writer (pyarrow
encodes and compresses with the GIL released) then use both cores. There is exactly one worker
thread and a FIFO queue, so chunks reach the sink in the order they were submitted and the
output is byte-for-byte the same as writing them inline. The queue is bounded, so at most
`depth` chunks wait in memory; an error in the worker is raised in the submitting thread at the
next `submit` or at `close`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import polars as pl

Sink = Callable[[str, pl.DataFrame], None]
Job = Callable[[], dict[str, pl.DataFrame]]

_STOP = object()


class BackgroundSink:
    """Run `job()` (which returns table -> frame) and hand its frames to `sink`, in a worker thread."""

    def __init__(self, sink: Sink, depth: int = 1) -> None:
        self._sink = sink
        self._queue: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="boligmix-synth-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is _STOP:
                    return
                if self._error is None:
                    for name, frame in job().items():
                        self._sink(name, frame)
            except BaseException as exc:  # handed to the submitting thread
                self._error = exc
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, job: Job) -> None:
        """Queue `job` (blocks while `depth` jobs are waiting)."""
        self._raise()
        self._queue.put(job)

    def write(self, name: str, frame: pl.DataFrame) -> None:
        """Queue one ready frame (keeps its place in the order of everything submitted)."""
        self.submit(lambda: {name: frame})

    def close(self) -> None:
        """Wait until everything queued is written; raise the worker's error if it had one."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Stop after the current job, dropping what waits (used when the producer failed)."""
        self._error = self._error or RuntimeError("abandoned")
        while True:
            try:
                self._queue.get_nowait()
                self._queue.task_done()
            except queue.Empty:
                break
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()
