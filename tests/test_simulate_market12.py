"""Session 12's cuts of the seekers' and the market's work, each against the code it replaced: the
oldest member of each moving household by a minimum per group (`seekers.oldest_members`) against
the three-key lexsort it replaced; the seekers' head rows by id without a dictionary (the
first row given for an id counts, as `dict.setdefault` kept it)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boligmix.simulate.seekers import oldest_members


def _oldest_by_lexsort(rows: np.ndarray, birth: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Session 11's code (`seekers._add_movers`): the first row of each group sorted by (birth, row)."""
    group = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
    first = np.lexsort((rows, birth[rows], group))
    oldest = first[np.r_[True, group[first][1:] != group[first][:-1]]] if rows.size else first
    out = np.full(bounds.size - 1, -1, dtype=np.int64)
    out[group[oldest]] = rows[oldest]
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 40), st.integers(-3, 3)), max_size=6), max_size=12),
       st.booleans())
def test_oldest_members_is_the_lexsort_first(groups, ascending):
    """Groups of any size (empty ones too), ties of birth, rows in any order within a group (or
    ascending, as `rows_by_household` gives them), births negative and huge."""
    rows, births, bounds = [], {}, [0]
    next_row = 0
    for members in groups:
        part = []
        for offset, birth in members:
            row = next_row + offset            # distinct rows, not in order
            next_row += 41
            part.append(row)
            births[row] = birth * (10 ** 12 if offset % 7 == 0 else 1)
        rows.extend(sorted(part) if ascending else part)
        bounds.append(len(rows))
    rows = np.array(rows, dtype=np.int64)
    birth = np.zeros(next_row + 1, dtype=np.int64)
    for row, b in births.items():
        birth[row] = b
    bounds = np.array(bounds, dtype=np.int64)
    assert np.array_equal(oldest_members(rows, birth, bounds), _oldest_by_lexsort(rows, birth, bounds))


def test_oldest_members_of_nothing():
    assert oldest_members(np.zeros(0, np.int64), np.zeros(3, np.int64), np.zeros(1, np.int64)).size == 0
    assert np.array_equal(oldest_members(np.zeros(0, np.int64), np.zeros(3, np.int64), np.zeros(3, np.int64)),
                          [-1, -1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 5), max_size=15), st.lists(st.integers(-5, 5), max_size=15))
def test_head_rows_keep_the_first_given(movers, leavers):
    """The head rows by id as `draw_seekers` builds them (np.unique's first occurrence) against a
    dictionary filled with `setdefault`, movers first (ids repeated within and across the parts)."""
    mover_rows = np.arange(len(movers), dtype=np.int64)
    leaver_rows = np.arange(len(leavers), dtype=np.int64) + 100
    head_of: dict[int, int] = {}
    for k, v in zip(movers + leavers, [*mover_rows.tolist(), *leaver_rows.tolist()]):
        head_of.setdefault(k, v)
    ids, first = np.unique(np.concatenate([np.array(movers, np.int64), np.array(leavers, np.int64)]),
                           return_index=True)
    rows = np.concatenate([mover_rows, leaver_rows])[first]
    assert ids.tolist() == sorted(head_of)
    assert rows.tolist() == [head_of[k] for k in sorted(head_of)]


class _Dwellings:
    def __init__(self, codes: np.ndarray, n_areas: int) -> None:
        self._codes, self._names = codes, [f"A{i}" for i in range(n_areas)]

    def area_codes(self):
        return self._codes, self._names


class _Pop:
    def __init__(self, codes, n_areas, nonwestern) -> None:
        self.dwellings, self.nonwestern = _Dwellings(codes, n_areas), nonwestern


def _shares_by_weights(codes: np.ndarray, names: list, resident_pos: np.ndarray, nonwestern: np.ndarray) -> np.ndarray:
    """Session 11's `area_share_array`: weighted bincounts of the residents inside an area."""
    person_code = codes[resident_pos]
    inside = person_code >= 0
    n = np.bincount(person_code[inside], minlength=len(names))
    nw = np.bincount(person_code[inside], weights=nonwestern[inside], minlength=len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, nw / np.maximum(n, 1), np.nan)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 6), st.lists(st.integers(-1, 5), max_size=12), st.data())
def test_area_shares_by_counts_equal_the_weighted_bincounts(n_areas, dwelling_codes, data):
    """Areas without residents (NaN), dwellings outside any area (-1), no residents at all."""
    from boligmix.simulate.seekers import area_share_array

    codes = np.array([c if c < n_areas else -1 for c in dwelling_codes], dtype=np.int64)
    residents = data.draw(st.lists(st.tuples(st.integers(0, max(codes.size - 1, 0)), st.booleans()),
                                   max_size=30)) if codes.size else []
    pos = np.array([p for p, _ in residents], dtype=np.int64)
    nonwestern = np.array([w for _, w in residents], dtype=bool)
    share, names = area_share_array(_Pop(codes, n_areas, nonwestern), pos)
    expected = _shares_by_weights(codes, names, pos, nonwestern)
    assert share.tobytes() == expected.tobytes()          # NaN where the old code had NaN, every bit equal
