"""The simulation's fast paths give what the direct computations give: donor cells looked up as
sorted codes against the per-cell dictionaries they replaced (brute force), the yearly
indicators from in-memory registers against the same registers written as files, and a
replication that drops the register years it no longer reads against one that keeps them all."""

import copy
import dataclasses

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from simulate_support import START, shared
from synth_data import small_dataset_dir

from boligmix.data.io import read_table
from boligmix.indicators import compute_area_indicators
from boligmix.indicators.population import FramesDataset
from boligmix.simulate.lookup import is_in, sorted_lookup
from boligmix.simulate.area_levels import area_code, area_outside_bands
from boligmix.simulate.donors import MIN_AREA_DONORS, Donors
from boligmix.simulate.status_history import status_on
from boligmix.simulate.population import Population, day
from boligmix.simulate.rates import STATUS_BANDS, band
from boligmix.simulate.replication import run_replication
from boligmix.simulate.scenario import load_scenario

_POPULATION: list[Population] = []


def _shared_population() -> Population:
    """The small dataset's start population, read once per process: not to be changed."""
    if not _POPULATION:
        _POPULATION.append(Population.from_dataset(small_dataset_dir(), START))
    return _POPULATION[0]


def _population() -> Population:
    return copy.deepcopy(_shared_population())


def _dictionary_cells(pop: Population, year: int, outside: np.ndarray) -> list[dict[tuple, np.ndarray]]:
    """The donor cells as dictionaries of key tuples (the former implementation), for comparison."""
    py_ids = pop.person_years[year].join(pop.persons_frame.select("person_id"), on="person_id", how="semi")[
        "person_id"].sort().to_numpy()
    info = pop.persons_frame.filter(pl.col("person_id").is_in(py_ids)).sort("person_id")
    age = info.select(((pl.date(year + 1, 1, 1) - pl.col("birth_date")).dt.total_days() // 365.25).cast(pl.Int64)
                      ).to_series().to_numpy()
    nw = ((info["origin"] != "dansk") & ~info["country_code"].is_in(sorted(pop.western_countries))).to_numpy()
    order = np.argsort(pop.pid)
    ab_all = area_outside_bands(pop, year + 1, outside, status_on(pop, year))
    ab = {int(p): int(b) for p, b in zip(pop.pid[order], ab_all[order])}
    code = {int(p): int(c) for p, c in zip(pop.pid, area_code(pop))}
    people = pl.DataFrame({"person_id": py_ids, "status": status_on(pop, year, py_ids).astype(np.int64),
                           "band": band(age, STATUS_BANDS), "nw": nw.astype(np.int64),
                           "ab": [ab.get(int(p), 0) for p in py_ids], "area": [code.get(int(p), -1) for p in py_ids]})
    levels = []
    for keys in (["status", "band", "nw", "ab", "area"], ["status", "band", "nw", "ab"], ["status", "band", "nw"],
                 ["status", "band"], ["status"]):
        levels.append({tuple(int(k) for k in key): part["person_id"].to_numpy()
                       for key, part in people.group_by(keys, maintain_order=True)
                       if len(keys) < 5 or (key[4] >= 0 and part.height >= MIN_AREA_DONORS)})
    return levels


def _dictionary_pick(levels, key: tuple, u: float) -> int:
    for depth, level in zip((5, 4, 3, 2, 1), levels):
        pool = level.get(key[:depth])
        if pool is not None:
            return int(pool[min(int(u * pool.size), pool.size - 1)])
    pool = levels[4][(0,)]
    return int(pool[min(int(u * pool.size), pool.size - 1)])


def test_donor_cells_pick_what_the_cell_dictionaries_pick():
    pop = _population()
    outside = shared().rates.outside_statuses
    donors = Donors(pop, START - 1, outside)
    levels = _dictionary_cells(pop, START - 1, outside)
    rng = np.random.default_rng(7)
    n = 4000
    # keys of real residents (area cells hit) and random keys (coarser cells and unseen statuses)
    who = rng.integers(0, pop.size, n // 2)
    status = np.r_[status_on(pop, START - 1)[who], rng.integers(0, 12, n // 2)].astype(np.int64)
    bands = np.r_[band(pop.age_on(day(START)), STATUS_BANDS)[who], rng.integers(0, len(STATUS_BANDS), n // 2)]
    nw = np.r_[pop.nonwestern[who].astype(np.int64), rng.integers(0, 2, n // 2)]
    ab = np.r_[area_outside_bands(pop, START, outside, status_on(pop, START - 1), donors.area_outside)[who],
               rng.integers(0, 9, n // 2)]
    area = np.r_[area_code(pop)[who], rng.integers(-1, 6, n // 2)]
    u = rng.random(n)
    got = donors.ids[donors.pick(status, bands, nw, ab, u, area)]      # a donor: its position in `ids`
    want = [_dictionary_pick(levels, (int(status[i]), int(bands[i]), int(nw[i]), int(ab[i]), int(area[i])), u[i])
            for i in range(n)]
    assert got.tolist() == want
    assert len({len(level) for level in levels}) > 1   # the levels differ: the fallbacks are exercised


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.integers(-50, 50), unique=True), wanted=st.lists(st.integers(-60, 60), max_size=30))
def test_array_lookups_agree_with_python_sets(ids, wanted):
    ids_arr = np.array(ids, dtype=np.int64)
    wanted_arr = np.array(wanted, dtype=np.int64)
    assert is_in(ids_arr, wanted_arr).tolist() == [w in set(ids) for w in wanted]
    ordered = np.sort(ids_arr)
    values = ordered * 3
    assert sorted_lookup(ordered, values, wanted_arr, -1).tolist() == [w * 3 if w in set(ids) else -1
                                                                       for w in wanted]


def test_indicators_of_in_memory_registers_equal_those_of_the_written_files():
    data = small_dataset_dir()
    years = [2022, 2023]
    from_files = compute_area_indicators(data, years)
    tables = {name: read_table(data, name) for name in ("persons", "residences", "dwellings", "person_years",
                                                         "labour", "convictions")}
    in_memory = compute_area_indicators(FramesDataset(data, tables), years)
    assert from_files.height > 0
    assert in_memory.equals(from_files)
    # the frames are what is read: a change in them changes the indicators
    tables["labour"] = tables["labour"].with_columns(pl.col("fte") * 0)
    changed = compute_area_indicators(FramesDataset(data, tables), years)
    assert not changed["pct_outside_work_edu"].equals(from_files["pct_outside_work_edu"])


def test_dropping_register_years_no_longer_read_does_not_change_a_replication(tmp_path):
    sh = dataclasses.replace(shared(), years=2)
    scenario = load_scenario("baseline")
    dropped = run_replication(sh, 0, scenario)
    kept = run_replication(sh, 0, scenario, keep_working=tmp_path / "registers")
    assert dropped["areas"].height > 0 and dropped["areas"]["year"].unique().len() == 2
    assert dropped["areas"].equals(kept["areas"])
    assert dropped["lettings"].equals(kept["lettings"])


def test_the_statuses_kept_for_a_simulated_year_are_those_of_its_labour_rows():
    from boligmix.simulate.demography import deaths
    from boligmix.simulate.register_outcomes import outcomes
    from boligmix.simulate.status_history import year_statuses
    from boligmix.simulate.rates import statuses

    pop = _population()
    rates = shared().rates
    donors = Donors(pop, START - 1, rates.outside_statuses)
    deaths(pop, rates, 3, 0, START)
    outcomes(pop, rates, donors, 3, 0, START)
    ids, kept = year_statuses(pop, START)
    direct = statuses(pop.labour[START]).select("person_id", "status")
    everyone = pl.DataFrame({"person_id": ids}).join(direct, on="person_id", how="left").with_columns(
        pl.col("status").fill_null(0))
    assert ids.size == pop.size and np.all(np.diff(ids) > 0)
    assert kept.tolist() == everyone["status"].to_list()
    assert len(set(kept.tolist())) > 2


def test_donors_keep_their_statuses_when_the_population_drops_their_year():
    """In a long run the donors' year leaves the population's kept statuses (after nine years)."""
    from boligmix.simulate.status_history import forget_registers
    from boligmix.simulate.rates import statuses

    pop = _population()
    donors = Donors(pop, START - 1, shared().rates.outside_statuses)
    direct = statuses(pop.labour[START - 1]).select("person_id", "status")
    forget_registers(pop, START + 20)
    assert START - 1 not in pop.labour and START - 1 not in pop.status_cache
    status = dict(direct.iter_rows())           # a donor without labour rows: status 0
    assert donors.status.tolist() == [status.get(i, 0) for i in donors.ids.tolist()]
    assert 0 < len(set(donors.ids.tolist()) & set(status)) < donors.ids.size


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(-5, 5), max_size=12))
def test_has_repeats_is_a_set_size_check(values):
    from boligmix.simulate.population import has_repeats

    assert has_repeats(np.array(values, dtype=np.int64)) == (len(set(values)) != len(values))


def test_dwelling_positions_of_many_unordered_ids_are_the_index_positions():
    pop = _population()
    dw = pop.dwellings
    rng = np.random.default_rng(3)
    wanted = dw.ids[rng.integers(0, dw.ids.size, 200_000)]       # above the size searched in order
    assert wanted.size > 1 << 16
    assert dw.position(wanted).tolist() == [dw.index[int(d)] for d in wanted]
    assert dw.position(wanted[:50]).tolist() == [dw.index[int(d)] for d in wanted[:50]]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-2**40, 2**40) | st.integers(-3, 3), max_size=30))
def test_sorted_unique_equals_numpys_unique(values):
    from boligmix.simulate.population import sorted_unique

    array = np.array(values, dtype=np.int64)
    got = sorted_unique(array)
    assert got.dtype == np.int64 and got.tolist() == np.unique(array).tolist() == sorted(set(values))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=60), st.lists(st.integers(-60, 60), max_size=200),
       st.sampled_from(["left", "right"]))
def test_searching_many_needles_in_order_equals_searchsorted(haystack, needles, side):
    """`search` past SEARCH_IN_ORDER (set to 4 here) sorts the needles, searches, puts them back."""
    import boligmix.simulate.lookup as lookup

    hay = np.sort(np.array(haystack, dtype=np.int64))
    wanted = np.array(needles, dtype=np.int64)
    old = lookup.SEARCH_IN_ORDER
    lookup.SEARCH_IN_ORDER = 4
    try:
        got = lookup.search(hay, wanted, side)
        with_order = lookup.search(hay, wanted, side, np.argsort(wanted, kind="stable"))
    finally:
        lookup.SEARCH_IN_ORDER = old
    assert got.tolist() == with_order.tolist() == np.searchsorted(hay, wanted, side).tolist()


def test_area_shares_equal_a_group_by_mean_of_the_residents():
    """The area shares by area code (bincount) equal polars' group-by mean over the residents'
    area ids (the computation they replaced), exactly."""
    from boligmix.simulate.area_levels import area_conviction_shares, area_outside_shares

    pop = _population()
    outside = np.array([i % 3 == 1 for i in range(20)])
    status = (pop.pid % 20).astype(np.int64)
    age = pop.age_on(day(START + 1))
    area = pop.dwellings.area[pop.dwellings.position(pop.dwelling)]
    working = (area != None) & (age >= 18) & (age <= 64)  # noqa: E711
    expected = dict(pl.DataFrame({"a": area[working].astype(str), "o": outside[status][working]}).group_by("a").agg(
        pl.col("o").mean()).iter_rows())
    assert area_outside_shares(pop, START + 1, outside, status) == expected
    convictions = pl.DataFrame({"person_id": pop.pid[::7]})
    adult = (area != None) & (age >= 18)  # noqa: E711
    expected = dict(pl.DataFrame({"a": area[adult].astype(str), "c": np.isin(pop.pid, pop.pid[::7])[adult]}).group_by(
        "a").agg(pl.col("c").mean()).iter_rows())
    assert area_conviction_shares(pop, START + 1, convictions) == expected
    assert len(expected) > 1 and 0 < min(expected.values()) < max(expected.values()) < 1


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["int8", "int16", "int64", "uint8", "float64"]), st.integers(-128, 0), st.integers(0, 127),
       st.sampled_from([STATUS_BANDS, np.array([0.0, 0.3, 0.5]), np.array([-50, 0, 7])]), st.integers(0, 2**31))
def test_band_of_many_integers_by_table_equals_the_binary_search(dtype, low, high, edges, seed):
    """`band` of more than 4096 integers reads a table of their range: the binary search's bands."""
    from boligmix.simulate.rates import _band_search

    low = max(low, 0) if dtype.startswith("u") else low
    values = np.random.default_rng(seed).integers(low, high + 1, 5000).astype(dtype)
    got = band(values, edges)
    want = _band_search(values, edges)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


@settings(max_examples=150, deadline=None)
@given(pid=st.lists(st.integers(1, 14), min_size=0, max_size=10), data=st.data(), consistent=st.booleans())
def test_invariant_check_raises_exactly_when_a_brute_force_check_fails(pid, data, consistent):
    """`Population.check` (grouped by a sort) against the invariants checked household by household."""
    n, dwelling_ids = len(pid), np.arange(101, 106, dtype=np.int64)
    household = np.array(data.draw(st.lists(st.integers(1, 4), min_size=n, max_size=n)), dtype=np.int64)
    dwelling = np.array(data.draw(st.lists(st.sampled_from(dwelling_ids.tolist()), min_size=n, max_size=n)),
                        dtype=np.int64)
    occupant = np.array(data.draw(st.lists(st.integers(0, 4), min_size=5, max_size=5)), dtype=np.int64)
    if consistent:                       # occupants as the persons say (then often valid)
        occupant[:] = 0
        for h, d in zip(household.tolist(), dwelling.tolist()):
            occupant[d - 101] = h
    pop = _shared_population()      # not copied: `replace` makes new objects and `check` only reads
    dw = dataclasses.replace(pop.dwellings, ids=dwelling_ids, household=occupant)
    small = dataclasses.replace(pop, pid=np.array(pid, dtype=np.int64), household=household, dwelling=dwelling,
                                dwellings=dw)
    homes = {h: {d for hh, d in zip(household.tolist(), dwelling.tolist()) if hh == h} for h in set(household.tolist())}
    occupied = [int(h) for h in occupant if h != 0]
    valid = (len(set(pid)) == n and all(len(d) == 1 for d in homes.values())
             and len(set(occupied)) == len(occupied)
             and all(occupant[next(iter(d)) - 101] == h for h, d in homes.items() if len(d) == 1)
             and len(occupied) == len(homes))
    try:
        small.check()
        raised = False
    except AssertionError:
        raised = True
    assert raised == (not valid)


def test_invariant_check_finds_swapped_occupants():
    pop = _population()
    ids = np.array([101, 102], dtype=np.int64)
    small = dataclasses.replace(pop, pid=np.array([1, 2, 3]), household=np.array([1, 2, 2]),
                                dwelling=np.array([101, 102, 102]))
    for occupant, ok in (([1, 2], True), ([2, 1], False)):
        small.dwellings = dataclasses.replace(pop.dwellings, ids=ids, household=np.array(occupant, dtype=np.int64))
        try:
            small.check()
            assert ok
        except AssertionError as error:
            assert not ok and "occupant" in str(error)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 2), st.integers(-10**18, 10**18)), max_size=40))
def test_sort_order_is_numpy_lexsort(rows):
    from boligmix.simulate.lookup import sort_order

    keys = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(3)]
    assert sort_order(*keys).tolist() == np.lexsort(keys[::-1]).tolist()
    assert sort_order(keys[0]).tolist() == np.argsort(keys[0], kind="stable").tolist()
    distinct = np.arange(len(rows), dtype=np.int64)[::-1].copy()      # a last key that makes every row distinct
    assert sort_order(keys[0], keys[1], distinct, stable=False).tolist() == np.lexsort((distinct, keys[1], keys[0])).tolist()
    grouped = keys[0][sort_order(keys[0], stable=False)]
    assert grouped.tolist() == sorted(keys[0].tolist())


def test_outside_years_equal_the_outside_history_of_each_years_statuses():
    """The outcomes' count of outside years (looked up in id order) against `outside_history` of
    `status_on` year by year, on a population in shuffled order with persons missing from some years."""
    from boligmix.simulate.rates import outside_history
    from boligmix.simulate.status_history import outside_years

    pop = _population()
    keep = np.random.default_rng(5).permutation(pop.size)
    for name in ("pid", "birth", "female", "origin", "country", "nonwestern", "household", "dwelling", "spell_start"):
        setattr(pop, name, getattr(pop, name)[keep])
    pop.labour[START - 3] = pop.labour[START - 3].filter(pl.col("person_id") % 3 != 0)
    pop.status_cache.clear()
    outside = np.zeros(18, dtype=bool)
    outside[[0, 2, 5]] = True                  # status 0 (no rows) counted as outside too: the default is looked up
    years = range(START - 2, START - 7, -1)
    expected = outside_history([status_on(pop, y) for y in years], outside)
    got = outside_years(pop, years, outside, np.argsort(pop.pid, kind="stable"))
    assert got.tolist() == expected.tolist() and 0 < got.max()


def test_the_years_market_is_freed_before_the_register_outcomes(monkeypatch):
    """The market's objects formed reference cycles; `Market.release` breaks them, so the market is
    freed before the outcomes with no collection (without it the market, its applicants and the
    engine's ledger lived into the next year)."""
    import gc
    import weakref

    from boligmix.simulate import replication

    markets: list[weakref.ref] = []
    alive_at_outcomes: list[bool] = []
    real_market, real_outcomes = replication.Market, replication.outcomes

    def market(*args, **kwargs):
        made = real_market(*args, **kwargs)
        markets.append(weakref.ref(made))
        return made

    def outcomes(*args, **kwargs):
        alive_at_outcomes.append(markets[-1]() is not None)
        return real_outcomes(*args, **kwargs)

    monkeypatch.setattr(replication, "Market", market)
    monkeypatch.setattr(replication, "outcomes", outcomes)
    gc.disable()                      # no automatic collection may free it instead
    try:
        run_replication(shared(), 0, load_scenario("baseline"))
    finally:
        gc.enable()
    assert alive_at_outcomes == [False]
    monkeypatch.setattr(real_market, "release", lambda self: None)   # the cycle is real: without the release
    gc.disable()
    try:
        run_replication(shared(), 0, load_scenario("baseline"))
    finally:
        gc.enable()
    assert alive_at_outcomes == [False, True]
