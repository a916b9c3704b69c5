"""Shift-share decomposition: contributions add up exactly to the change (Hypothesis), oracle shares."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.mix.decomposition import COMPONENTS, decompose

person = st.tuples(
    st.sampled_from(["U1", "U2"]),  # unit
    st.booleans(), st.booleans(),  # in the unit at year_from / year_to
    st.booleans(), st.booleans(),  # in the population at year_from / year_to
    st.booleans(), st.booleans(),  # trait at year_from / year_to
    st.booleans(),  # born after year_from
    st.booleans(),  # died before year_to
)


def _stock(people) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows, deaths = [], []
    for pid, (unit, in1, in2, pop1, pop2, x1, x2, born, died) in enumerate(people):
        birth = date(2010, 6, 1) if born else date(1970, 1, 1)
        if in1 and not born:
            rows.append((unit, 2010, pid, birth, pop1, x1))
        if in2:
            rows.append((unit, 2011, pid, birth, pop2, x2))
        if died and not in2:
            deaths.append((pid, date(2010, 9, 1)))
    stock = pl.DataFrame(rows, schema={"unit_id": pl.String, "year": pl.Int64, "person_id": pl.Int64,
                                       "birth_date": pl.Date, "emp_pop": pl.Boolean, "employed": pl.Boolean},
                         orient="row")
    dd = pl.DataFrame(deaths, schema={"person_id": pl.Int64, "death_date": pl.Date}, orient="row")
    return stock, dd


def _share(stock: pl.DataFrame, unit: str, year: int) -> float | None:
    s = stock.filter((pl.col("unit_id") == unit) & (pl.col("year") == year) & pl.col("emp_pop"))
    return None if s.height == 0 else s["employed"].sum() / s.height


@settings(max_examples=150, deadline=None)
@given(people=st.lists(person, min_size=0, max_size=30))
def test_property_contributions_sum_exactly_to_the_change(people):
    stock, dd = _stock(people)
    out = decompose(stock, year_from=2010, year_to=2011, factor="employed", death_dates=dd)
    for row in out.iter_rows(named=True):
        s1, s2 = _share(stock, row["unit_id"], 2010), _share(stock, row["unit_id"], 2011)
        if s1 is None or s2 is None:
            assert row["change"] is None and all(row[c] is None for c in COMPONENTS)
            continue
        assert row["share_from"] == pytest.approx(s1) and row["share_to"] == pytest.approx(s2)
        assert row["change"] == pytest.approx(s2 - s1, abs=1e-12)
        assert sum(row[c] for c in COMPONENTS) == pytest.approx(row["change"], abs=1e-12)
        assert row["n_from"] == row["n_stayers"] + row["n_out_movers"] + row["n_other_leavers"]
        assert row["n_to"] == row["n_stayers"] + row["n_in_movers"] + row["n_other_entrants"]


def test_hand_case_each_component():
    # unit U: 1 Jan 2010: A(employed), B(not), C(employed, leaves), D(not, dies)
    #         1 Jan 2011: A(employed), B(now employed), E(moved in, not employed)
    rows = [("U", 2010, 1, True), ("U", 2010, 2, False), ("U", 2010, 3, True), ("U", 2010, 4, False),
            ("U", 2011, 1, True), ("U", 2011, 2, True), ("U", 2011, 5, False)]
    stock = pl.DataFrame(
        [(u, y, p, date(1970, 1, 1), True, x) for u, y, p, x in rows],
        schema={"unit_id": pl.String, "year": pl.Int64, "person_id": pl.Int64, "birth_date": pl.Date,
                "emp_pop": pl.Boolean, "employed": pl.Boolean}, orient="row")
    dd = pl.DataFrame({"person_id": [4], "death_date": [date(2010, 5, 1)]})
    r = decompose(stock, year_from=2010, year_to=2011, factor="employed", death_dates=dd).row(0, named=True)
    # S1 = 2/4, S2 = 2/3; stayers A,B: 1/2 -> 2/2
    assert r["change"] == pytest.approx(2 / 3 - 1 / 2)
    assert r["stayers"] == pytest.approx(0.5)
    assert r["in_movers"] == pytest.approx((0 - 1 * 1.0) / 3)        # E pulls down from stayers' 100 %
    assert r["out_movers"] == pytest.approx(-(1 - 1 * 0.5) / 4)      # C (employed) leaving lowers the share
    assert r["other_leavers"] == pytest.approx(-(0 - 1 * 0.5) / 4)   # D (not employed) dying raises it
    assert r["other_entrants"] == 0
