"""The generator's background pipeline and heap setting: order kept, errors raised, nothing lost."""

from __future__ import annotations

import time

import polars as pl
import pytest

from boligmix.data.synth.memory import heap_allocations, release_free_memory
from boligmix.data.synth.pipeline import BackgroundSink


def slow_job(i: int) -> dict[str, pl.DataFrame]:
    time.sleep(0.002 * (30 - i) / 30)  # later jobs are quicker than earlier ones: the order must still hold
    return {"a": pl.DataFrame({"x": range(i)}), "b": pl.DataFrame({"x": range(2 * i)})}


def test_frames_reach_the_sink_in_submission_order():
    seen: list[tuple[str, int]] = []
    sink = BackgroundSink(lambda name, frame: seen.append((name, frame.height)), depth=1)
    for i in range(1, 30):
        if i % 3 == 0:
            sink.write("direct", pl.DataFrame({"x": range(i)}))
        else:
            sink.submit(lambda i=i: slow_job(i))
    sink.close()
    expected = []
    for i in range(1, 30):
        expected += [("direct", i)] if i % 3 == 0 else [("a", i), ("b", 2 * i)]
    assert seen == expected


def test_an_error_in_a_job_or_the_sink_is_raised_in_the_caller():
    def bad_job():
        raise ValueError("job failed")

    sink = BackgroundSink(lambda name, frame: None)
    sink.submit(bad_job)
    with pytest.raises(ValueError, match="job failed"):
        for _ in range(20):  # raised at a later submit or at close
            sink.write("t", pl.DataFrame({"x": [1]}))
            time.sleep(0.01)
        sink.close()

    def bad_sink(name, frame):
        raise OSError(f"disk full writing {name}")

    sink = BackgroundSink(bad_sink)
    sink.write("persons", pl.DataFrame({"x": [1]}))
    with pytest.raises(OSError, match="disk full writing persons"):
        sink.close()


def test_abandon_stops_without_writing_what_waits():
    seen: list[str] = []
    sink = BackgroundSink(lambda name, frame: (time.sleep(0.05), seen.append(name)))
    for i in range(5):
        sink.write(f"t{i}", pl.DataFrame({"x": [i]}))
    sink.abandon()
    assert len(seen) < 5 and seen == [f"t{i}" for i in range(len(seen))]


def test_heap_allocations_is_a_scoped_setting(monkeypatch):
    import platform

    from boligmix.data.synth import memory

    on_glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    with heap_allocations() as active:
        assert active is on_glibc  # every mallopt call took effect where glibc is there
        release_free_memory()
    with heap_allocations() as again:  # can be entered again after exit
        assert again is on_glibc
    monkeypatch.setattr(memory, "_glibc", lambda: None)  # elsewhere: a no-op that says so
    with heap_allocations() as active:
        assert active is False
