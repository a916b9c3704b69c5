"""The synthetic generator pays part of its ressourceforløbsydelse as ressourceforløbsydelse under
jobafklaringsforløb (`ressourceforloebsydelse_jobafklaring`, the kind § 51 b and § 59, stk. 6,
nr. 7 count), from 2015, in the documented share, and changes nothing else of a seed's output."""

from __future__ import annotations

import math

import polars as pl
import pytest

from boligmix.data.synth import outcomes
from boligmix.data.synth.generator import generate

JOB, RFY = "ressourceforloebsydelse_jobafklaring", "ressourceforloebsydelse"
YEARS = (2013, 2016)


@pytest.fixture(scope="module")
def pair() -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    with_split = generate("small", 11, years=YEARS)
    share, outcomes.JOBAFKLARING_SHARE = outcomes.JOBAFKLARING_SHARE, 0.0
    try:
        without = generate("small", 11, years=YEARS)
    finally:
        outcomes.JOBAFKLARING_SHARE = share
    return with_split, without


def test_jobafklaring_share_of_ressourceforloebsydelse(pair):
    lab = pair[0]["labour"]
    counts = {(y, a): n for y, a, n in lab.filter(pl.col("attachment").is_in([JOB, RFY]))
              .group_by("year", "attachment").len().iter_rows()}
    assert counts.get((2013, JOB), 0) == counts.get((2014, JOB), 0) == 0       # before the forløb existed
    assert counts[(2013, RFY)] > 100
    job = sum(counts.get((y, JOB), 0) for y in (2015, 2016))
    total = job + sum(counts.get((y, RFY), 0) for y in (2015, 2016))
    p = outcomes.JOBAFKLARING_SHARE
    assert abs(job - p * total) < 4 * math.sqrt(total * p * (1 - p)), (job, total)   # binomial, 4 sd


def test_nothing_else_changes(pair):
    """With the share set to 0 the same seed gives the same tables, the labour rows apart from the
    jobafklaring label (ressourceforløbsydelse there)."""
    with_split, without = pair
    assert with_split.keys() == without.keys()
    for name in with_split:
        a, b = with_split[name], without[name]
        if name == "labour":
            assert a.filter(pl.col("attachment") == JOB).height > 0 and b.filter(pl.col("attachment") == JOB).is_empty()
            a = a.with_columns(pl.col("attachment").replace(JOB, RFY))
            key = ["person_id", "year", "attachment"]
            a, b = a.sort(key), b.sort(key)
        assert a.equals(b), name
