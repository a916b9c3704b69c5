"""Atomic file output: a half-written file never appears at its target, and a finished one has the
usual permissions (what the umask allows, as `open(path, "w")` gives; `tempfile.mkstemp` makes 0600)."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary sibling path (ending in `suffix`); it replaces `path`, with the usual
    permissions, only if the block succeeds (otherwise it is removed and `path` left as it was)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        give_usual_permissions(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def give_usual_permissions(path: str | os.PathLike[str]) -> None:
    """The mode `open(path, "w")` would have given a new file (0666 less the umask)."""
    os.chmod(path, 0o666 & ~_umask())


def _umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux's
    /proc/self/status): setting it to read it, as elsewhere, could let a file another thread creates
    in that instant get mode 0666."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()
