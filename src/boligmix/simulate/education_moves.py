"""The education step of the year's register outcomes: the highest education (and its source) of
persons with a row last year moves by the estimated education transitions."""

from __future__ import annotations

import numpy as np
import polars as pl

from boligmix.simulate import rng
from boligmix.simulate.lookup import is_in, sorted_lookup
from boligmix.simulate.per_resident import draw_chunks, flag_at, resident_index
from boligmix.simulate.population import Population, day, whole_years
from boligmix.simulate.rates import Rates


def education_step(person_years: pl.DataFrame, prev_py: pl.DataFrame, pop: Population, rates: Rates, seed: int,
                    rep: int, year: int, by_id: np.ndarray | None = None, ascending: np.ndarray | None = None,
                    had_row: np.ndarray | None = None) -> pl.DataFrame:
    """Move the highest education (and its source) of persons with a row last year by the estimated
    education transitions (`rates.transitions`), by age on 1 January of `year`. `had_row` (per
    resident: a row in `prev_py`; given when every row of `person_years` is a resident's): the
    persons with a row last year are found through the rows' residents, not a hash set of last
    year's ids."""
    if rates.transitions is None or person_years.height == 0:
        return person_years
    ids = person_years["person_id"].to_numpy()
    by_id = np.argsort(pop.pid, kind="stable") if by_id is None else by_id
    ascending = pop.pid[by_id] if ascending is None else ascending              # the residents' ids, sorted
    if had_row is not None:
        resident = resident_index(ascending, by_id, ids)
        own_rows = np.flatnonzero(flag_at(had_row, resident))
        resident = resident[own_rows]
    else:
        own_rows = np.flatnonzero(is_in(prev_py["person_id"].to_numpy(), ids))
        resident = sorted_lookup(ascending, by_id, ids[own_rows], -1)       # every one of them resides
    if own_rows.size == 0:
        return person_years
    own = ids[own_rows]
    age = whole_years(day(year) - pop.birth[resident])            # = pop.age_on(day(year))[resident]
    del resident
    tr = rates.transitions
    states = pl.DataFrame({"highest_education": [s[0] for s in tr.education_states],
                           "education_source": [s[1] for s in tr.education_states],
                           "state": np.arange(len(tr.education_states), dtype=np.int64)},
                          schema={"highest_education": pl.String, "education_source": pl.String, "state": pl.Int64})
    code = education_state_codes(person_years, states)[own_rows]
    nxt = np.empty_like(code)
    for at in draw_chunks(own.size):              # memory: the draws' working arrays a chunk at a time
        nxt[at] = tr.education_codes(code[at], age[at], rng.uniform(seed, rep, own[at], year, rng.EDUCATION))
    del own, age                              # memory: not held while the new columns are written
    return with_education_states(person_years, own_rows, code, nxt, states)


def education_state_codes(person_years: pl.DataFrame, states: pl.DataFrame) -> np.ndarray:
    """Per row of `person_years`: the `state` of `states` with its (highest_education,
    education_source), nulls equal (-1: none). Each column is coded by its own few values (small
    integers) and the pair looked up in a table: the left join on the two string columns it equals
    built a frame of both strings per row (national: 7.7 million rows, the register outcomes'
    largest transient); `states` with a repeated pair falls back to that join."""
    columns = ("highest_education", "education_source")
    if states.select(columns).is_duplicated().any():
        return (person_years.select(columns).join(states, on=list(columns), how="left", nulls_equal=True,
                                                  maintain_order="left")["state"].fill_null(-1).to_numpy())
    digits = []
    for name in columns:
        values = states[name].drop_nulls().unique(maintain_order=True).to_list()
        digits.append((len(values) + 1, _value_digits(person_years[name], values), _value_digits(states[name], values)))
    (_, row0, state0), (n1, row1, state1) = digits
    table = np.full(digits[0][0] * n1, -1, dtype=np.int64)
    table[state0 * n1 + state1] = states["state"].to_numpy()
    known = (row0 >= 0) & (row1 >= 0)
    return np.where(known, table[np.where(known, row0 * n1 + row1, 0)], -1)


def _value_digits(column: pl.Series, values: list[str]) -> np.ndarray:
    """Per element: its index in `values`, len(values) for null, -1 for another value (int32)."""
    col = pl.col(column.name)
    digit = pl.when(col.is_null()).then(pl.lit(len(values), pl.Int32)).otherwise(
        col.replace_strict(values, list(range(len(values))), default=-1, return_dtype=pl.Int32))
    return column.to_frame().select(digit.alias("digit"))["digit"].to_numpy()


def with_education_states(person_years: pl.DataFrame, rows: np.ndarray, code: np.ndarray, nxt: np.ndarray,
                          states: pl.DataFrame) -> pl.DataFrame:
    """The rows `rows` of `person_years`, now in education state `code` (-1: unknown, they stay),
    move to state `nxt`: each of the state's two values where not null (else the row's own). Only
    the rows whose state changes are written: a row's values are its state's (they were joined)."""
    moved = (code >= 0) & (nxt != code)
    at = rows[moved]
    if at.size == 0:
        return person_years
    drawn = states[nxt[moved]]
    columns = []
    for name in ("highest_education", "education_source"):
        own = person_years[name]
        value = pl.select(pl.coalesce(drawn[name], own.gather(at))).to_series()
        columns.append(own.clone().scatter(at, value).alias(name))
    return person_years.with_columns(columns)


__all__ = ["education_state_codes", "education_step", "with_education_states"]
