"""Atomic file output for report writers: a half-written report never appears at the target."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from boligmix.atomic import atomic_path
from boligmix.errors import ConfigurationError


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_with(path: str | os.PathLike[str], writer: Callable[[Path], None]) -> Path:
    """Call `writer(tmp_path)` and move the result to `path` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


@contextmanager
def staged_files(out_dir: str | os.PathLike[str], prefix: str) -> Iterator[Path]:
    """Yield a staging folder inside `out_dir`; the files written into it are moved into `out_dir`
    together once the block has succeeded (other files in `out_dir` are left alone). The staging
    folder is always removed. An `out_dir` that cannot be created is a ConfigurationError."""
    target = Path(out_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{prefix}-", suffix=".tmp", dir=target))
    except OSError as exc:
        raise ConfigurationError(f"cannot write to {target}: {exc}", field="out") from exc
    try:
        yield staging
        for path in staging.iterdir():  # everything is written: move the files into place
            os.replace(path, target / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
