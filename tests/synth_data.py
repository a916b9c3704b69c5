"""One small synthetic dataset per test run (shared by the xdist workers: `built_once`), written
through `write_synthetic` and read back."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import polars as pl
from built_once import built_once

from boligmix.data.io import read_table
from boligmix.data.schema import REQUIRED_TABLES
from boligmix.data.synth import write_synthetic

SEED = 7
YEARS = (2004, 2024)


@lru_cache(maxsize=1)
def small_dataset_dir() -> Path:
    return built_once("small-seed7", lambda path: write_synthetic(path, scale="small", seed=SEED, years=YEARS))


@lru_cache(maxsize=1)
def small_tables() -> dict[str, pl.DataFrame]:
    path = small_dataset_dir()
    return {name: read_table(path, name) for name in REQUIRED_TABLES}
