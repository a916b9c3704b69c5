"""Cut a dataset at 1 January Y: what was known when the lists of Y were computed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from boligmix.data.io import has_table, read_manifest, read_table, write_dataset
from boligmix.data.schema import TABLES

YEARLY = ("person_years", "labour", "convictions")


def cut_dataset(src: Path, out: Path, year: int) -> Path:
    """Later register years dropped, spells ending after 1 January Y reopened, later arrivals
    (spells and lettings starting after 1 January Y) dropped."""
    cut = date(year, 1, 1)
    tables = {}
    for name in TABLES:
        if not has_table(src, name):
            continue
        frame = read_table(src, name)
        if name in YEARLY:
            frame = frame.filter(pl.col("year") <= year - 1)
        elif name == "residences":
            frame = frame.filter(pl.col("move_in") <= cut).with_columns(
                pl.when(pl.col("move_out") > cut).then(None).otherwise(pl.col("move_out")).alias("move_out"),
                pl.when(pl.col("move_out") > cut).then(None).otherwise(pl.col("end_reason")).alias("end_reason"))
        elif name == "lettings":
            frame = frame.filter(pl.col("lease_start") <= cut)
        tables[name] = frame
    manifest = read_manifest(src)
    manifest = manifest.model_copy(update={"years": (manifest.years[0], year - 1)})
    return write_dataset(out, tables, manifest)
