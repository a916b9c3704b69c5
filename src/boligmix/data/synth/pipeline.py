"""A two-thread pipeline that computes and writes table chunks while the simulation goes on.

Stage 1 (thread `boligmix-synth-compute`) runs each submitted job (for a register year: the
yearly outcomes and their frames); stage 2 (thread `boligmix-synth-writer`) hands the frames to
the sink (Parquet encoding and compression). With the simulation in the calling thread, three
sequential parts of the work overlap on the available cores (numpy, polars and pyarrow release
the GIL in their large operations). Each stage is one thread with a FIFO queue, so jobs run and
frames reach the sink exactly in submission order: the output is byte-for-byte the same as
running everything inline. The queues are bounded (`depth` items each), which bounds memory; an
error in either thread is raised in the submitting thread at the next `submit` or at `close`.
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
    """Run `job()` (returns table -> frame) in one thread and hand its frames to `sink` in another."""

    def __init__(self, sink: Sink, depth: int = 1) -> None:
        self._sink = sink
        self._jobs: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._frames: queue.Queue = queue.Queue(maxsize=max(depth, 1))
        self._error: BaseException | None = None
        self._threads = [threading.Thread(target=self._compute, name="boligmix-synth-compute", daemon=True),
                         threading.Thread(target=self._write, name="boligmix-synth-writer", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _compute(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                self._frames.put(_STOP)
                return
            try:
                if self._error is None:
                    self._frames.put(job())
            except BaseException as exc:  # handed to the submitting thread
                self._error = exc

    def _write(self) -> None:
        while True:
            frames = self._frames.get()
            if frames is _STOP:
                return
            try:
                if self._error is None:
                    for name, frame in frames.items():
                        self._sink(name, frame)
            except BaseException as exc:  # handed to the submitting thread
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, job: Job) -> None:
        """Queue `job` (blocks while `depth` jobs are waiting)."""
        self._raise()
        self._jobs.put(job)

    def write(self, name: str, frame: pl.DataFrame) -> None:
        """Queue one ready frame (keeps its place in the order of everything submitted)."""
        self.submit(lambda: {name: frame})

    def close(self) -> None:
        """Wait until everything queued is written; raise a worker's error if there was one."""
        if self._threads[0].is_alive():
            self._jobs.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._raise()

    def abandon(self) -> None:
        """Skip whatever waits and stop both threads (used when the producer failed)."""
        self._error = self._error or RuntimeError("abandoned")
        if self._threads[0].is_alive():
            self._jobs.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._error = None
