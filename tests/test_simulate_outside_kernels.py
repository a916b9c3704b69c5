"""The batched kernels of the simulated year outside the market equal the code they replaced, on
random inputs: `Seekers.add_many` against `Seekers.add` one seeker at a time (the same
dictionaries in the same order, repeated ids included); `sorted_union` (a merge of the year's kept
and donated register rows) against concatenating and sorting them; the area choice's labels
drawn at once against `draw_many` and the labels of its areas; the education step writing only
the rows whose state changes against writing every row."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.applicants import Seekers
from boligmix.simulate.destination import AreaChoice
from boligmix.simulate.lookup import sorted_groups, sorted_union
from boligmix.simulate.education_moves import with_education_states


def _state(s: Seekers) -> dict:
    """Every dictionary of the seekers, as (key, value) lists in their order (members as lists)."""
    out = {name: list(getattr(s, name).items()) for name in ("kind", "month", "wants_almen", "municipality",
                                                             "dwelling", "new_members", "_open")}
    out["members"] = [(k, v.tolist(), str(v.dtype)) for k, v in s.members.items()]
    out["groups"] = [(k, list(g)) for k, g in s._by_group.items()]
    out["group_of"] = [(k, next(key for key, g in s._by_group.items() if g is grp)) for k, grp in s._group_of.items()]
    return out


seeker = st.tuples(st.integers(0, 40), st.sampled_from(["mover", "leaver", "immigrant", "rehousing"]),
                   st.integers(1, 12), st.booleans(), st.sampled_from([101, 147, 851]),
                   st.one_of(st.none(), st.integers(1, 10**6)),
                   st.lists(st.integers(1, 10**12), min_size=1, max_size=4),
                   st.one_of(st.none(), st.fixed_dictionaries({"arrive": st.integers(0, 20000)})))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(seeker, max_size=12), min_size=1, max_size=4))
def test_add_many_equals_add_one_by_one(batches):
    one, many = Seekers(), Seekers()
    for batch in batches:
        for sid, kind, month, wants, muni, dwelling, members, new in batch:
            one.add(sid, kind, month, wants, muni, dwelling, np.array(members, dtype=np.int64), new)
        cols = list(zip(*batch)) if batch else [[]] * 8
        many.add_many(list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]), list(cols[5]),
                      [np.array(m, dtype=np.int64) for m in cols[6]], list(cols[7]))
        assert _state(many) == _state(one)
    for sid in list(one._open)[::2]:
        one.housed(sid)
        many.housed(sid)
    assert _state(many) == _state(one)
    assert [many.active_in(m, k[0], k[1]) for m in (1, 6, 12) for k in many._by_group] == \
        [one.active_in(m, k[0], k[1]) for m in (1, 6, 12) for k in one._by_group]


def test_add_many_with_one_kind_for_all_and_no_dwellings():
    one, many = Seekers(), Seekers()
    for sid, m in ((5, 3), (2, 1), (9, 12)):
        one.add(sid, "leaver", m, True, 101, None, np.array([sid * 10]), None)
    many.add_many([5, 2, 9], "leaver", [3, 1, 12], [True] * 3, [101] * 3, None,
                  [np.array([50]), np.array([20]), np.array([90])])
    assert _state(many) == _state(one)


@st.composite
def _frames(draw):
    """Two frames of rows (person, attachment, value) with no person in both; keys distinct or not,
    nulls or not, the first sorted or not."""
    persons = draw(st.lists(st.integers(0, 30), unique=True, max_size=12))
    split = draw(st.integers(0, len(persons)))
    atts = st.one_of(st.sampled_from(["a", "b", "c", "ø"]), st.none() if draw(st.booleans()) else st.just("a"))

    def rows(people):
        return [(p, draw(atts), draw(st.floats(0, 1))) for p in people for _ in range(draw(st.integers(1, 3)))]

    first = pl.DataFrame(rows(persons[:split]), schema={"p": pl.Int64, "att": pl.String, "v": pl.Float64}, orient="row")
    second = pl.DataFrame(rows(persons[split:]), schema={"p": pl.Int64, "att": pl.String, "v": pl.Float64},
                          orient="row")
    if draw(st.booleans()):
        first = first.unique(["p", "att"], keep="first", maintain_order=True).sort("p", "att")
    if draw(st.booleans()):
        second = second.unique(["p", "att"], keep="first", maintain_order=True)
    return first, second


@settings(max_examples=300, deadline=None)
@given(_frames(), st.sampled_from([("p", "att"), ("p",)]))
def test_sorted_union_equals_concatenating_and_sorting(frames, by):
    first, second = frames
    if by == ("p",):          # one row per person, as the person_years
        first, second = first.unique("p", keep="first", maintain_order=True), second.unique("p", keep="first")
    expected = pl.concat([first, second], how="vertical_relaxed").sort(*by)
    got = sorted_union(first, second, by)
    if expected.select(pl.struct(*by).is_duplicated().any()).item():
        assert got.sort(*by, "v", nulls_last=True).equals(expected.sort(*by, "v", nulls_last=True))
    else:
        assert got.equals(expected)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_area_labels_drawn_at_once_equal_the_labels_of_draw_many(data):
    munis = data.draw(st.lists(st.sampled_from([101, 147, 851, 900]), min_size=1, max_size=3, unique=True))
    areas = ["A1", "A2", "B7", None]
    choices = {}
    for g in (0, 1):
        for b in (0, 1):
            for m in munis:
                own = data.draw(st.lists(st.sampled_from(areas), min_size=1, max_size=4, unique=True))
                w = np.array(data.draw(st.lists(st.floats(0.01, 1), min_size=len(own), max_size=len(own))))
                choices[(g, b, m)] = (own, np.cumsum(w / w.sum()))
    choice = AreaChoice(choices)
    n = data.draw(st.integers(0, 40))
    nw = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.int64)
    basic = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    muni = np.array(data.draw(st.lists(st.sampled_from([101, 147, 851, 900, 999]), min_size=n, max_size=n)),
                    dtype=np.int64)
    u = np.array(data.draw(st.lists(st.floats(0, 1, exclude_max=True), min_size=n, max_size=n)))
    label = data.draw(st.sampled_from([{"A1": 1, "A2": 2, "B7": 3}, {"A1": 5}, {"A2": 2, None: 9}]))
    expected = [label.get(a, 0) for a in choice.draw_many(nw, basic, muni, u)]
    assert choice.draw_labels(nw, basic, muni, u, label).tolist() == expected


def _education_states_before(person_years, own_rows, code, nxt, states):
    """The code `with_education_states` replaced: every known row scattered, then coalesced."""
    known = code >= 0
    at = pl.Series(own_rows[known], dtype=pl.Int64)
    drawn = states[nxt[known]]
    level_next = pl.repeat(None, person_years.height, dtype=pl.String, eager=True).scatter(
        at, drawn["highest_education"])
    source_next = pl.repeat(None, person_years.height, dtype=pl.String, eager=True).scatter(
        at, drawn["education_source"])
    return person_years.with_columns(pl.coalesce(level_next, "highest_education").alias("highest_education"),
                                     pl.coalesce(source_next, "education_source").alias("education_source"))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_education_states_written_where_they_change_equal_writing_every_row(data):
    values = st.one_of(st.none(), st.sampled_from(["grundskole", "gymnasial", "uoplyst"]))
    pairs = data.draw(st.lists(st.tuples(values, st.one_of(st.none(), st.sampled_from(["dk", "imputed"]))),
                               min_size=1, max_size=6, unique=True))
    states = pl.DataFrame({"highest_education": [p[0] for p in pairs], "education_source": [p[1] for p in pairs],
                           "state": np.arange(len(pairs), dtype=np.int64)},
                          schema={"highest_education": pl.String, "education_source": pl.String, "state": pl.Int64})
    n = data.draw(st.integers(0, 30))
    row_state = data.draw(st.lists(st.integers(-1, len(pairs) - 1), min_size=n, max_size=n))
    frame = pl.DataFrame({"person_id": np.arange(n, dtype=np.int64),
                          "highest_education": [pairs[k][0] if k >= 0 else "ukendt" for k in row_state],
                          "education_source": [pairs[k][1] if k >= 0 else None for k in row_state]},
                         schema={"person_id": pl.Int64, "highest_education": pl.String, "education_source": pl.String})
    own_rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))) if n else [],
                        dtype=np.int64)
    code = np.array([row_state[r] for r in own_rows], dtype=np.int64)
    nxt = np.array([data.draw(st.integers(0, len(pairs) - 1)) if c >= 0 else -1 for c in code], dtype=np.int64)
    assert with_education_states(frame, own_rows, code, nxt, states).equals(
        _education_states_before(frame, own_rows, code, nxt, states))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 5)))
def test_sorted_groups_equal_numpys_unique_of_a_sorted_array(values):
    ordered = np.sort(np.array(values, dtype=np.int64))
    expected = np.unique(ordered, return_index=True, return_counts=True)
    for got, want in zip(sorted_groups(ordered), expected):
        assert got.tolist() == want.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=30), st.lists(st.integers(-5, 70), max_size=40))
def test_dwelling_positions_by_the_bucket_table_equal_the_binary_search(ids, wanted):
    from boligmix.simulate.population import Dwellings

    ids = np.array(ids, dtype=np.int64) * 1_000_000_007       # repeated ids too: the first row counts
    wanted = np.array(wanted, dtype=np.int64) * 1_000_000_007
    n = ids.size
    dw = Dwellings(frame=pl.DataFrame(), ids=ids, tenure=np.zeros(n, np.int8), almen_type=np.full(n, None),
                   area=np.full(n, None), municipality=np.zeros(n, np.int64), rooms=np.ones(n, np.int64),
                   household=np.zeros(n, np.int64), active=np.ones(n, bool), vacant_from=np.ones(n, np.int64),
                   department=np.full(n, None), org=np.full(n, None), floor_area=np.ones(n), rent=np.ones(n))
    order = np.argsort(ids, kind="stable")
    expected = order[np.minimum(np.searchsorted(ids[order], wanted), n - 1)]
    assert dw.position(wanted, indexed_from=0).tolist() == expected.tolist()
    assert dw.position(wanted).tolist() == expected.tolist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-200_000, 200_000) | st.sampled_from([-1461, -1, 0, 365, 366, 1460, 1461, 1462, 36524]),
                max_size=50))
def test_whole_years_of_days_equal_the_float_floor_division(days):
    from boligmix.simulate.population import whole_years

    d = np.array(days, dtype=np.int64)
    assert whole_years(d).tolist() == (d // 365.25).astype(np.int64).tolist()
    every = np.arange(-3 * 1461, 3 * 1461, dtype=np.int64)       # every remainder, both signs
    assert np.array_equal(whole_years(every), (every // 365.25).astype(np.int64))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=25), st.lists(st.integers(-3, 45), max_size=40), st.booleans(),
       st.booleans())
def test_sorted_lookup_by_join_equals_the_binary_search(ids, wanted, ordered, give_order):
    from boligmix.simulate.lookup import sorted_lookup

    ids = np.array(sorted(ids), dtype=np.int64) * 1_000_003        # repeated ids too: the binary search then
    values = np.arange(ids.size, dtype=np.int8) * 3 - 7
    wanted = np.array(sorted(wanted) if ordered else wanted, dtype=np.int64) * 1_000_003
    order = np.argsort(wanted, kind="stable") if give_order else None
    if ids.size:
        pos = np.minimum(np.searchsorted(ids, wanted), ids.size - 1)
        expected = np.where(ids[pos] == wanted, values[pos], 0)
    else:
        expected = np.zeros(wanted.size, dtype=np.int8)
    got = sorted_lookup(ids, values, wanted, 0, order, joined_from=0)
    assert got.dtype == expected.dtype and got.tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 63), st.integers(0, 3), st.integers(0, 63),
                          st.integers(-1, (1 << 24) - 2)), max_size=30))
def test_coarser_donor_cell_codes_are_the_finest_code_without_its_last_digits(rows):
    from boligmix.simulate.donors import _KEY_RADIX, _cell_code

    columns = [np.array([r[i] for r in rows], dtype=np.int64) for i in range(5)]
    finest = _cell_code(columns, 5)
    for depth in (5, 4, 3, 2, 1):
        below = int(np.prod([_KEY_RADIX[i] for i in range(depth, 5)], dtype=np.int64))
        assert (finest // below).tolist() == _cell_code(columns, depth).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 999), max_size=40) | st.lists(st.integers(-5, 2**40), max_size=10))
def test_municipality_codes_counted_equal_their_sorted_unique(codes):
    from boligmix.simulate.population import sorted_unique
    from boligmix.simulate.seekers import _municipalities

    values = np.array(codes, dtype=np.int64)
    got, expected = _municipalities(values), sorted_unique(values)
    assert got.dtype == expected.dtype and got.tolist() == expected.tolist()
