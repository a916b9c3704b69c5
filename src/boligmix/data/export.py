"""Export a dataset's tables to CSV files that `boligmix ingest` reads back.

This writes person-level microdata (pseudonymous ids included): it is for moving data between
systems and for round-trip tests, not for publication (published outputs go through
`boligmix.report.disclosure`). Dates are written YYYY-MM-DD, booleans true/false, floats with
'.' and enough digits to read back the same value, nulls as empty fields.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from boligmix.data.io import check_out_dir, has_table, read_manifest, read_table, staged_dir
from boligmix.data.schema import TABLES


def export_csv(dataset_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
               overwrite: bool = False,
               on_progress: Callable[[str, float], None] | None = None) -> list[Path]:
    """Write `<table>.csv` to `out_dir` for every table of the dataset; return the files.

    The directory is written whole or not at all (temporary sibling directory, then rename).
    `out_dir` may not be the dataset directory, lie inside it or contain it (replacing it would
    delete the dataset). `on_progress(step, fraction)` is called before each table.
    """
    read_manifest(dataset_dir)
    target = Path(out_dir)
    check_out_dir(dataset_dir, target, source="dataset directory")
    report = on_progress or (lambda step, fraction: None)
    with staged_dir(target, overwrite=overwrite) as staging:
        names = [name for name in TABLES if has_table(dataset_dir, name)]
        for i, name in enumerate(names):
            report(f"export {name}", i / len(names))
            read_table(dataset_dir, name).write_csv(staging / f"{name}.csv", date_format="%Y-%m-%d")
    report("done", 1.0)
    return [target / f"{name}.csv" for name in names]
