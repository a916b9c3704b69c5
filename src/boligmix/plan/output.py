"""Writing a command's output files all at once: staged in a temporary directory, then moved in.

Nothing is written before every file is ready, so an error leaves the target as it was. Output
paths that are, contain or lie inside an input are refused first (`boligmix.data.io.check_out_dir`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from boligmix.data.io import check_out_dir
from boligmix.errors import ConfigurationError
from boligmix.report._files import staged_files, write_with

Writer = Callable[[Path], None]


def check_inputs(out: str | os.PathLike[str], inputs: Mapping[str, str | os.PathLike[str] | None]) -> None:
    """Refuse `out` when it is, contains or lies inside any given input (file or directory)."""
    for name, path in inputs.items():
        if path is not None:
            check_out_dir(path, out, source=f"input {name}")


def write_files(out_dir: str | os.PathLike[str], writers: Mapping[str, Writer]) -> dict[str, str]:
    """Write `name -> writer(path)` into `out_dir` atomically as a set; returns name -> final path."""
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise ConfigurationError(f"--out {target} is a file; give a directory", field="out")
    with staged_files(target, "plan") as staging:
        for name, write in writers.items():
            write(staging / name)
    return {name: str(target / name) for name in writers}


def write_file(path: str | os.PathLike[str], write: Writer) -> Path:
    """Write one file atomically (temporary sibling, then rename: `report._files.write_with`)."""
    return write_with(path, write)


def json_writer(payload: Any) -> Writer:
    def write(path: Path) -> None:
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return write


def csv_writer(frame: Any) -> Writer:
    """A polars DataFrame as CSV."""
    return lambda path: frame.write_csv(path)


__all__ = ["check_inputs", "csv_writer", "json_writer", "write_file", "write_files"]
