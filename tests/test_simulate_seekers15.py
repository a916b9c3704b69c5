"""Session 15's cuts of the year's decisions (seekers15), each against the code it replaced or a
brute-force oracle: the areas drawn in one compiled pass (`AreaChoice.draw_many`, `draw_labels`)
against `AreaChoice.draw` one seeker at a time and session 14's `draw_many` (a search per group, a
Python step per seeker); the households of some persons (`demography.households(pop, rows)`) against
the three-key sort the Mesa benchmark used; `members_of_chosen` over some persons against `np.isin`;
`Dwellings.position` by its bucket table from a few hundred ids on against the binary search."""

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.applicants import Seekers
from boligmix.simulate.demography import households, members_of_chosen
from boligmix.simulate.destination import AreaChoice
from boligmix.simulate.population import INDEXED_POSITIONS, Dwellings
from boligmix.simulate.transitions import Transitions, cumulative_draw

BIG = 2**62


def _draw_many_before(choice: AreaChoice, nonwestern, basic, municipality, u) -> list:
    """Session 14's `draw_many`: the groups by `np.unique`, a search per group, a step per seeker."""
    out: list = [None] * len(u)
    keys = np.stack([np.asarray(nonwestern, dtype=np.int64), np.asarray(basic, dtype=np.int64),
                     np.asarray(municipality, dtype=np.int64)], axis=1)
    if not keys.size:
        return out
    groups, inverse = np.unique(keys, axis=0, return_inverse=True)
    u = np.asarray(u, dtype=float)
    for g, key in enumerate(groups.tolist()):
        entry = choice.choices.get(tuple(key))
        if entry is None:
            continue
        at = np.flatnonzero(inverse.ravel() == g)
        areas, cum = entry
        index = np.minimum(np.searchsorted(cum, u[at], side="right"), cum.size - 1)
        for i, k in zip(at.tolist(), index.tolist()):
            out[i] = areas[k]
    return out


key_part = st.sampled_from([-BIG, -1, 0, 1, 2, 101, 851, BIG]) | st.integers(-BIG, BIG)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_areas_drawn_at_once_are_drawn_one_by_one(data):
    """Keys negative and huge, groups without an entry, shares with ties (zero weights: equal
    cumulative values) and sums above one, draws exactly on a cumulative value, at 0, at 1 and
    beyond, NaN; none or one seeker."""
    keys = data.draw(st.lists(st.tuples(key_part, key_part, key_part), max_size=6, unique=True))
    areas = ["A1", "A2", "B7", None]
    choices = {}
    for key in keys:
        own = data.draw(st.lists(st.sampled_from(areas), min_size=1, max_size=4))
        w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.25, 1.0]) | st.floats(0, 2), min_size=len(own),
                                        max_size=len(own))))
        choices[key] = (own, np.cumsum(w))
    choice = AreaChoice(choices)
    n = data.draw(st.integers(0, 30))
    pick = st.sampled_from(keys) if keys else st.tuples(key_part, key_part, key_part)
    seekers = [data.draw(pick | st.tuples(key_part, key_part, key_part)) for _ in range(n)]
    cums = sorted({float(c) for _, cum in choices.values() for c in cum})
    u = np.array([data.draw(st.sampled_from([0.0, 1.0, 1.5, float("nan"), *cums]) | st.floats(0, 1))
                  for _ in range(n)], dtype=float)
    nw, basic, muni = (np.array([s[i] for s in seekers], dtype=np.int64) for i in range(3))
    got = choice.draw_many(nw, basic, muni, u)
    assert got == [choice.draw(*s, x) for s, x in zip(seekers, u.tolist())]
    assert got == _draw_many_before(choice, nw, basic, muni, u)
    label = {"A1": 1, "A2": 2, "B7": 3, None: 9}
    assert choice.draw_labels(nw, basic, muni, u, label).tolist() == [label.get(a, 0) for a in got]


def test_areas_drawn_without_entries_or_seekers():
    empty = AreaChoice({})
    assert empty.draw_many(np.array([0]), np.array([1]), np.array([101]), np.array([0.5])) == [None]
    assert empty.draw_labels(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), {None: 4}).tolist() == []
    assert empty.draw_labels(np.array([0]), np.array([1]), np.array([101]), np.array([0.5]), {None: 4}).tolist() == [4]
    one = AreaChoice({(1, 0, 7): (["X", None], np.array([0.5, 1.0]))})
    assert one.draw_many([True, 1, 1], [False, 0, 0], [7, 7, 8], [0.5, 0.49, 0.1]) == [None, "X", None]


persons = st.lists(st.tuples(st.sampled_from([-BIG, -7, 0, 1, 2, 3, 5, BIG]) | st.integers(-BIG, BIG),
                             st.integers(-3, 3) | st.integers(-BIG, BIG), st.booleans()), max_size=40)


@settings(max_examples=300, deadline=None)
@given(persons, st.randoms(use_true_random=False))
def test_households_of_some_persons_are_the_sorted_first(members, random):
    """`households(pop, rows)` of the persons marked in `members` against the Mesa benchmark's
    former three-key sort of those rows; the members of chosen households over all persons (the
    others never chosen) against `np.isin`."""
    pid = np.array(random.sample(range(-BIG, BIG, BIG // 50), len(members)), dtype=np.int64)
    pop = SimpleNamespace(household=np.array([m[0] for m in members], dtype=np.int64),
                          birth=np.array([m[1] for m in members], dtype=np.int64), pid=pid)
    rows = np.flatnonzero(np.array([m[2] for m in members], dtype=bool))
    order = rows[np.lexsort((pop.pid[rows], pop.birth[rows], pop.household[rows]))]
    hh_sorted = pop.household[order]
    starts = np.flatnonzero(np.r_[True, hh_sorted[1:] != hh_sorted[:-1]]) if order.size else order
    groups = households(pop, rows)
    assert groups.ids.tolist() == hh_sorted[starts].tolist()
    assert groups.head.tolist() == order[starts].tolist()
    assert groups.size.tolist() == np.diff(np.r_[starts, order.size]).tolist()
    chosen = np.array([random.random() < 0.4 for _ in range(groups.ids.size)], dtype=bool)
    got = members_of_chosen(groups, chosen, len(members))
    in_rows = np.zeros(len(members), dtype=bool)
    in_rows[rows] = True
    assert got.dtype == bool and got.tolist() == (in_rows & np.isin(pop.household, groups.ids[chosen])).tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3 * INDEXED_POSITIONS), st.integers(1, 5000), st.randoms(use_true_random=False))
def test_positions_by_the_table_from_a_few_hundred_ids_are_the_binary_search(n, n_dwellings, random):
    """Around `INDEXED_POSITIONS`: the ids spread (the small dataset's), bunched (the national one's
    and new ones far above) and repeated, in any order; ids absent, negative and huge looked up."""
    spread = [3 * 10**12 + k * 2654435761 for k in range(n_dwellings)]
    ids = np.array(random.sample(spread, n_dwellings // 2 + 1) + [6 * 10**18 + random.randrange(10**17)
                                                                  for _ in range(n_dwellings // 2)], dtype=np.int64)
    ids = ids[random.sample(range(ids.size), ids.size)]
    ids[: ids.size // 10] = ids[-1]                          # some repeated
    dw = Dwellings.__new__(Dwellings)
    dw.ids = ids
    pool = ids.tolist() + [-BIG, -1, 0, BIG, 7 * 10**18, 3 * 10**12 + 1]
    wanted = np.array([random.choice(pool) for _ in range(n)], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    expected = order[np.minimum(np.searchsorted(ids[order], wanted), ids.size - 1)]
    assert dw.position(wanted).tolist() == expected.tolist()


def _add_many_before(seekers: Seekers, sids, kind, month, wants_almen, municipality, dwelling, members,
                     new_members=None) -> None:
    """Session 14's `Seekers.add_many`: a Python step per seeker for the groups."""
    n = len(sids)
    kinds = [kind] * n if isinstance(kind, str) else kind
    dwellings = [None] * n if dwelling is None else dwelling
    new = [None] * n if new_members is None else new_members
    if len(set(sids)) < n or not seekers.kind.keys().isdisjoint(sids):
        for row in zip(sids, kinds, month, wants_almen, municipality, dwellings, members, new):
            seekers.add(*row)
        return
    seekers.kind.update(zip(sids, kinds))
    seekers.month.update(zip(sids, month))
    seekers.wants_almen.update(zip(sids, wants_almen))
    seekers.municipality.update(zip(sids, municipality))
    seekers.dwelling.update(zip(sids, dwellings))
    seekers.members.update(zip(sids, (np.asarray(m, dtype=np.int64) for m in members)))
    seekers.new_members.update(zip(sids, new))
    seekers._open.update(dict.fromkeys(sids))
    by_group: dict = {}
    for key, sid in zip(zip(municipality, wants_almen), sids):
        by_group.setdefault(key, []).append(sid)
    groups = {key: seekers._by_group.setdefault(key, {}) for key in by_group}
    for key, part in by_group.items():
        groups[key].update(dict.fromkeys(part))
    seekers._group_of.update(zip(sids, map(groups.__getitem__, zip(municipality, wants_almen))))


def _state(seekers: Seekers) -> list:
    """Every dictionary with its order, the members as lists and each seeker's group by identity."""
    plain = [list(getattr(seekers, a).items()) for a in ("kind", "month", "wants_almen", "municipality", "dwelling",
                                                         "new_members", "_open")]
    members = [(s, m.dtype.str, m.tolist()) for s, m in seekers.members.items()]
    groups = [(key, list(part)) for key, part in seekers._by_group.items()]
    ids = {id(part): key for key, part in seekers._by_group.items()}
    return [plain, members, groups, [(s, ids[id(part)]) for s, part in seekers._group_of.items()]]


batch = st.lists(st.tuples(st.sampled_from([-BIG, -1, 0, 3, 4, 5, BIG]) | st.integers(-BIG, BIG),
                           st.sampled_from([101, 147, 851, -3, 0]), st.booleans() | st.sampled_from([0, 1, 2]),
                           st.integers(1, 12), st.sampled_from([None, 7]), st.integers(0, 3)), max_size=25)


@settings(max_examples=300, deadline=None)
@given(st.lists(batch, min_size=1, max_size=3), st.booleans())
def test_seekers_added_at_once_are_the_seekers_added_before(batches, one_kind):
    """Batches after one another (groups already met, ids repeated within or across batches: one
    at a time), municipalities negative, wants almen as bools and as 0/1/2 (True equals 1), members
    as int64 arrays, lists and other integer arrays, dwellings and new members given or None."""
    got, want = Seekers(), Seekers()
    for rows in batches:
        sids = [r[0] for r in rows]
        kind = "mover" if one_kind else ["leaver" if r[3] % 2 else "mover" for r in rows]
        members = [np.arange(r[5], dtype=np.int64) if r[5] % 2 else
                   (list(range(r[5])) if r[5] else np.arange(r[5], dtype=np.int32)) for r in rows]
        dwelling = None if one_kind else [r[4] for r in rows]
        new = None if one_kind else [{"i": i} for i in range(len(rows))]
        args = (sids, kind, [r[3] for r in rows], [r[2] for r in rows], [r[1] for r in rows], dwelling, members, new)
        got.add_many(*args)
        _add_many_before(want, *args)
    assert _state(got) == _state(want)


def _destination_before(transitions: Transitions, kind: int, municipality: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Session 14's `Transitions.destination_municipality`: a binary search of the codes and
    `cumulative_draw` of the known ones."""
    municipality = np.asarray(municipality)
    codes = transitions.municipalities
    where = np.searchsorted(codes, municipality)
    known = (where < codes.size) & (codes[np.minimum(where, codes.size - 1)] == municipality)
    out = municipality.copy()
    if known.any():
        kinds = np.full(int(known.sum()), kind, dtype=np.int64)
        out[known] = codes[np.minimum(cumulative_draw(transitions.destination, (kinds, where[known]), u[known],
                                                      strict=False), codes.size - 1)]
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_destinations_drawn_in_one_pass_are_the_cumulative_draw(data):
    """Codes negative and huge, rows cumulative with ties and sums above one, or not ascending (with
    NaN: `cumulative_draw` counts them value by value), draws on a row's values, at 0, 1, beyond
    and NaN; municipalities outside the codes keep their movers; none or one mover."""
    codes = np.array(sorted(data.draw(st.sets(key_part, min_size=1, max_size=5))), dtype=np.int64)
    m = codes.size
    ascending = data.draw(st.booleans())
    cell = st.sampled_from([0.0, 0.5, 1.0]) | st.floats(0, 1)
    nan = not ascending and m > 1           # (one destination with NaN: the bucket table failed before)
    rows = np.array(data.draw(st.lists(st.lists(cell | st.just(float("nan")) if nan else cell, min_size=m,
                                                max_size=m), min_size=2 * m, max_size=2 * m))).reshape(2, m, m)
    table = np.cumsum(rows, axis=-1) if ascending else rows
    transitions = Transitions.__new__(Transitions)
    transitions.municipalities, transitions.destination = codes, table
    n = data.draw(st.integers(0, 30))
    municipality = np.array([data.draw(st.sampled_from(codes.tolist()) | key_part) for _ in range(n)], dtype=np.int64)
    values = sorted({float(v) for v in table.ravel().tolist() if v == v})
    u = np.array([data.draw(st.sampled_from([0.0, 1.0, 2.5, float("nan"), *values]) | st.floats(0, 1))
                  for _ in range(n)], dtype=float)
    kind = data.draw(st.sampled_from([0, 1]))
    got = transitions.destination_municipality(kind, municipality, u)
    want = _destination_before(transitions, kind, municipality, u)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["A", "B", "C", None]), max_size=6), min_size=1, max_size=4))
def test_area_codes_kept_as_dwellings_are_added_are_the_codes_made_afresh(batches):
    """Dwellings appended batch after batch (some batches bringing a new area, some empty): the codes
    kept and extended equal the codes of the whole column made afresh."""
    dw = Dwellings.__new__(Dwellings)
    dw.ids, dw.area = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    for batch in batches:
        dw.ids = np.r_[dw.ids, np.arange(dw.ids.size, dw.ids.size + len(batch))]
        dw.area = np.concatenate([dw.area, np.array(batch, dtype=object)])
        codes, names = dw.area_codes()
        fresh = Dwellings.__new__(Dwellings)
        fresh.ids, fresh.area = dw.ids, dw.area
        want_codes, want_names = fresh.area_codes()
        assert names == want_names and codes.dtype == want_codes.dtype and codes.tolist() == want_codes.tolist()
    del dw._lookup                                   # a state pickled before the lookup was kept
    dw.ids, dw.area = np.r_[dw.ids, -1], np.concatenate([dw.area, np.array(["A"], dtype=object)])
    fresh = Dwellings.__new__(Dwellings)
    fresh.ids, fresh.area = dw.ids, dw.area
    assert dw.area_codes()[0].tolist() == fresh.area_codes()[0].tolist()
