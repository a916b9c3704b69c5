"""Session 15 (lists15): the outside history of a data year kept as the persons mainly outside only
(`status_history.outside_statuses`) equals what the full statuses of every person give (the oracle:
`rates.statuses` of all the year's rows, the one definition), on random labour rows (Hypothesis:
ties in fte, repeated rows, ids near +-2**62, empty years, persons with no outside row)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate import status_history
from boligmix.simulate.lookup import sorted_lookup
from boligmix.simulate.rates import STATUSES, statuses

_ATTACHMENTS = STATUSES[1:]


def _labour(rng: np.random.Generator, n_rows: int, year: int, far: bool) -> pl.DataFrame:
    """Random labour rows of one year: a few persons with several rows, ties in fte, repeats."""
    base = (2**62 - 1000) if far else 0
    ids = base + rng.integers(-50 if far else 0, 60, n_rows)
    if far and n_rows:
        ids[: n_rows // 3] = -(2**62) + rng.integers(0, 20, n_rows // 3)
    return pl.DataFrame({"person_id": ids.astype(np.int64), "year": np.full(n_rows, year, dtype=np.int64),
                         "attachment": [_ATTACHMENTS[i] for i in rng.integers(0, len(_ATTACHMENTS), n_rows)],
                         "fte": rng.choice([0.0, 0.25, 0.5, 1.0], n_rows)},
                        schema={"person_id": pl.Int64, "year": pl.Int64, "attachment": pl.String, "fte": pl.Float64})


def _full(labour: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every person's main status (`year_statuses` before this session)."""
    st_ids = statuses(labour).select("person_id", "status").sort("person_id")
    return st_ids["person_id"].to_numpy(), st_ids["status"].to_numpy().astype(np.int8)


def _outside_mask(rng: np.random.Generator) -> np.ndarray:
    outside = rng.random(len(STATUSES)) < 0.4
    outside[0] = False
    return outside


@settings(max_examples=60, deadline=None)
@given(n_rows=st.integers(0, 400), far=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_outside_statuses_are_the_full_statuses_of_the_persons_mainly_outside(n_rows, far, seed):
    rng = np.random.default_rng(seed)
    labour = _labour(rng, n_rows, 2020, far)
    outside = _outside_mask(rng)
    got = status_history.outside_statuses(labour.sample(fraction=1.0, shuffle=True, seed=seed % 1000), outside)
    ids, status = _full(labour)
    keep = outside[status]
    assert got.ids.tolist() == ids[keep].tolist()
    assert got.status.tolist() == status[keep].tolist()
    assert got.status.dtype == np.int8 and got.outside == tuple(outside.tolist())


@settings(max_examples=50, deadline=None)
@given(n_rows=st.integers(0, 300), n_years=st.integers(1, 5), n_residents=st.integers(0, 120), far=st.booleans(),
       kept_full=st.integers(0, 5), seed=st.integers(0, 2**32 - 1))
def test_outside_years_from_outside_only_years_equal_those_of_the_full_statuses(n_rows, n_years, n_residents, far,
                                                                                kept_full, seed):
    """Some years kept in full (the simulated years), the others read from their labour rows or
    kept outside-only by `forget_registers`; the count equals the look-up of every id in the full
    statuses of every year."""
    rng = np.random.default_rng(seed)
    years = range(2024, 2024 - n_years, -1)
    labour = {y: _labour(rng, n_rows, y, far) for y in years}
    outside = _outside_mask(rng)
    pool = np.unique(np.concatenate([*(f["person_id"].to_numpy() for f in labour.values()),
                                     rng.integers(-100, 100, 50).astype(np.int64)]))
    pid = rng.permutation(pool)[:n_residents]
    ascending = np.sort(pid)
    expected = np.zeros(ascending.size, dtype=np.int64)
    for y in years:
        ids, status = _full(labour[y])
        expected += outside[sorted_lookup(ids, status, ascending, 0)]
    cache = {y: _full(labour[y]) for y in list(years)[:kept_full]}
    kept = set(cache)
    pop = SimpleNamespace(pid=pid, status_cache=cache, labour=dict(labour), person_years={}, convictions={})
    status_history.forget_registers(pop, years[0], outside)         # the older years: outside-only, rows dropped
    assert all(y not in pop.labour for y in years[1:])
    assert all(isinstance(pop.status_cache[y], status_history.OutsideOnly) for y in years[1:] if y not in kept)
    got = status_history.outside_years_sorted(pop, years, outside, ascending)
    assert got.tolist() == expected.tolist()
    assert status_history.outside_years_sorted(pop, years, outside, ascending).tolist() == expected.tolist()


def test_full_statuses_are_not_answered_from_an_outside_only_year():
    rng = np.random.default_rng(4)
    labour = _labour(rng, 300, 2020, False)
    outside = _outside_mask(rng)
    pop = SimpleNamespace(pid=np.arange(60, dtype=np.int64), status_cache={}, labour={2020: labour}, person_years={}, convictions={})
    assert status_history.outside_years_sorted(pop, range(2020, 2019, -1), outside, np.arange(60)).sum() > 0
    assert isinstance(pop.status_cache[2020], status_history.OutsideOnly)
    ids, status = status_history.year_statuses(pop, 2020)            # the rows are held: every person's
    assert ids.tolist() == _full(labour)[0].tolist() and status.tolist() == _full(labour)[1].tolist()
    pop.status_cache[2020] = status_history.outside_statuses(labour, outside)
    del pop.labour[2020]
    with pytest.raises(AssertionError, match="only the persons mainly outside"):
        status_history.year_statuses(pop, 2020)
    other = outside.copy()
    other[np.flatnonzero(~other)[1]] = True
    with pytest.raises(AssertionError, match="other outside statuses"):
        status_history.outside_years_sorted(pop, range(2020, 2019, -1), other, np.arange(60))


def test_no_rows_counted_as_outside_keeps_every_persons_statuses():
    rng = np.random.default_rng(5)
    labour = _labour(rng, 200, 2020, False)
    outside = _outside_mask(rng)
    outside[0] = True
    with pytest.raises(ValueError):
        status_history.outside_statuses(labour, outside)
    pop = SimpleNamespace(pid=np.arange(60, dtype=np.int64), status_cache={}, labour={2020: labour}, person_years={}, convictions={})
    status_history.forget_registers(pop, 2021, outside)
    ids, status = pop.status_cache[2020]
    assert not isinstance(pop.status_cache[2020], status_history.OutsideOnly)
    assert ids.tolist() == _full(labour)[0].tolist() and status.tolist() == _full(labour)[1].tolist()
