"""Engine lettings as the `lettings` table of the data model (`boligmix.data.schema.LETTINGS`)."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from boligmix.data.schema import LETTINGS
from boligmix.errors import DataValidationError
from boligmix.letting.model import Letting

_DTYPES = {"int64": pl.Int64, "string": pl.String, "date": pl.Date}


def lettings_table(lettings: Iterable[Letting]) -> pl.DataFrame:
    """One row per letting with exactly the `lettings` columns; a letting without a household id
    cannot be written (the column is not nullable) and raises DataValidationError."""
    rows = []
    for row, letting in enumerate(lettings, start=1):
        if letting.household_id is None:
            raise DataValidationError(f"letting {letting.letting_id} (applicant {letting.applicant_id}) has no "
                                      f"household id", path="lettings", row=row, column="household_id")
        rows.append({"letting_id": letting.letting_id, "dwelling_id": letting.dwelling_id,
                     "household_id": letting.household_id, "lease_start": letting.lease_start,
                     "channel": letting.channel.value})
    schema = {c.name: _DTYPES[c.dtype] for c in LETTINGS.columns}
    return pl.DataFrame(rows, schema=schema)


__all__ = ["lettings_table"]
