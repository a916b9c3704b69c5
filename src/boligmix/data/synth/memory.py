"""Keep freed large numpy buffers in the process heap while the generator runs (glibc only).

The generator works on whole-population arrays (6 million persons at the national scale: 24-48
MB each). glibc serves allocations above its mmap threshold (at most 32 MB by default) with a
fresh `mmap` and returns them with `munmap` when freed, so every temporary of that size costs
the kernel a page fault and a page zeroing per 4 KiB page (or a huge-page compaction, since
numpy asks for transparent huge pages): measured at 24.8 million page faults and 226 s of
system CPU time for one national run. Inside `heap_allocations()` such buffers come from the
heap instead and freed memory is kept for reuse (mmap and trim thresholds raised), so the pages
are faulted once. Threads started inside the block share the main heap (one arena; a thread
arena could not hold these buffers and would mmap them). `release_free_memory()` hands the
kept free memory back early (before a phase that allocates through another allocator, such as
polars). On exit the glibc default thresholds are restored and the kept memory is
returned to the system (`malloc_trim`). On other C libraries this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -2, -3, -8
GLIBC_DEFAULT_THRESHOLD = 128 * 1024
GLIBC_DEFAULT_TOP_PAD = 128 * 1024
HEAP_MMAP_THRESHOLD = 1 << 30
"""Allocations below 1 GiB come from the heap while the generator runs."""
HEAP_TOP_PAD = 64 << 20
"""The heap grows in steps of 64 MiB (fewer `brk` calls)."""


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # only glibc has mallopt with these parameters
        return libc
    except (OSError, AttributeError):
        return None


@contextmanager
def heap_allocations() -> Iterator[bool]:
    """Within the block, large buffers are reused from the heap; yields whether it took effect."""
    libc = _glibc()
    if libc is None:
        yield False
        return
    active = bool(libc.mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD)
                  and libc.mallopt(M_TRIM_THRESHOLD, HEAP_MMAP_THRESHOLD * 2 - 1)
                  and libc.mallopt(M_TOP_PAD, HEAP_TOP_PAD)
                  and libc.mallopt(M_ARENA_MAX, 1))
    try:
        yield active
    finally:
        libc.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
        libc.mallopt(M_TOP_PAD, GLIBC_DEFAULT_TOP_PAD)
        libc.mallopt(M_ARENA_MAX, 0)  # 0: glibc's default number of arenas
        libc.malloc_trim(0)


def release_free_memory() -> None:
    """Return the heap's free memory to the system now (glibc `malloc_trim`; elsewhere nothing)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
