"""Look-ups of ids in large id arrays, vectorised (the simulation's persons, donors, dwellings)."""

from __future__ import annotations

import numba
import numpy as np
import polars as pl

SEARCH_IN_ORDER = 1 << 16
"""`search` looks up more needles than this in ascending order (then puts the answers back): a
binary search of millions of unordered ids in millions of ids missed the cache at every step."""


def search(haystack: np.ndarray, needles: np.ndarray, side: str = "left",
           order: np.ndarray | None = None) -> np.ndarray:
    """`np.searchsorted(haystack, needles, side)`; `order`: the needles' ascending order when known."""
    needles = np.asarray(needles)
    if needles.size <= SEARCH_IN_ORDER and order is None:
        return np.searchsorted(haystack, needles, side)
    order = np.argsort(needles, kind="stable") if order is None else order
    out = np.empty(needles.size, dtype=np.int64)
    out[order] = np.searchsorted(haystack, needles[order], side)
    return out


def sorted_lookup(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray, default,
                  order: np.ndarray | None = None, joined_from: int = SEARCH_IN_ORDER) -> np.ndarray:
    """`values` of each of `wanted` in ascending unique `ids` (`default` where absent); `order`: the
    ascending order of `wanted` when known. More than `joined_from` int64 ids are found by a
    polars join (a merge of sorted keys when `wanted` is in ascending order or `order` makes it
    so, else a hash join): 0.3 s against 0.9 s for a binary search of 7.7 million sorted ids."""
    if ids.size == 0:
        return np.full(wanted.size, default, dtype=values.dtype)
    wanted = np.asarray(wanted)
    if wanted.size > joined_from and ids.dtype == wanted.dtype == np.int64 and _ascending_unique(ids):
        if order is None:
            return _joined_lookup(ids, values, wanted, default, _ascending(wanted))
        found = _joined_lookup(ids, values, wanted[order], default, True)
        out = np.empty_like(found)
        out[order] = found
        return out
    pos = np.minimum(search(ids, wanted, "left", order), ids.size - 1)
    return np.where(ids[pos] == wanted, values[pos], default)


def sorted_positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of each of `wanted` in the ascending `ids`, clipped to a valid one, 0 when `ids` is
    empty; whether it is there)."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if not ids.size:
        return np.zeros(wanted.size, dtype=np.int64), np.zeros(wanted.size, dtype=bool)
    at = np.minimum(ids.searchsorted(wanted), ids.size - 1)
    return at, ids[at] == wanted


def _ascending(values: np.ndarray) -> bool:
    return values.size < 2 or bool(np.all(values[1:] >= values[:-1]))


def _ascending_unique(values: np.ndarray) -> bool:
    return values.size < 2 or bool(np.all(values[1:] > values[:-1]))


def _joined_lookup(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray, default, ordered: bool) -> np.ndarray:
    """`sorted_lookup` by a left join of `wanted` on the (ascending unique) `ids`."""
    left = pl.DataFrame({"id": wanted})
    right = pl.DataFrame({"id": ids, "row": np.arange(ids.size, dtype=np.int64)}).with_columns(pl.col("id").set_sorted())
    if ordered:
        left = left.with_columns(pl.col("id").set_sorted())
    row = left.join(right, on="id", how="left", maintain_order="left")["row"]
    return np.where(row.is_not_null().to_numpy(), values[row.fill_null(0).to_numpy()], default)


def is_in(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Per element of `wanted`: whether it is among `ids` (a hash set, any order: a binary search of
    millions of unordered ids was 40 times slower). Both ascending and many (the year's kept
    persons among last year's labour rows): one merge of the two, no hash set."""
    wanted = np.asarray(wanted, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    if wanted.size > SEARCH_IN_ORDER and _ascending(wanted) and _ascending(ids):
        return merged_positions(ids, wanted) >= 0
    return pl.Series(wanted).is_in(pl.Series(ids).implode()).to_numpy()


@numba.njit(cache=True, inline="always")
def find_sorted(values: np.ndarray, x: np.int64) -> np.int64:
    """Position of `x` in the ascending distinct `values`, -1 when absent (inside compiled kernels)."""
    lo, hi = 0, values.size
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < values.size and values[lo] == x else -1


def merged_positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Per element of the ascending `wanted`: its position among the ascending unique `keys`, -1
    when absent, by one walk through both (a binary search of each, or a join, before: 0.2 s CPU
    a national year for last year's statuses, 0.1 s for each history year's outside ids)."""
    out = np.empty(np.asarray(wanted).size, dtype=np.int64)
    _walk_positions(np.asarray(keys, dtype=np.int64), np.asarray(wanted, dtype=np.int64), out)
    return out


@numba.njit(cache=True, nogil=True)
def _walk_positions(keys: np.ndarray, wanted: np.ndarray, out: np.ndarray) -> None:
    j, n = 0, keys.size
    for i in range(wanted.size):
        x = wanted[i]
        while j < n and keys[j] < x:
            j += 1
        out[i] = j if j < n and keys[j] == x else -1


TABLE_AT_FROM, TABLE_AT_UP_TO = 1 << 10, 1 << 16
"""`table_at` compiles from `TABLE_AT_FROM` values to `TABLE_AT_UP_TO` (fewer: numpy's indexing, 6 against
16 us for 100; more, millions of persons: numpy's, 54 against 72-81 ms for 6 million, `/tmp/mesa16/natbt.py`)."""


def table_at(table: np.ndarray, *indices: np.ndarray) -> np.ndarray:
    """`table[indices]` of a rate table (float64, 2-5 dimensions) by one integer index array per
    dimension, all of one length: one compiled pass (numpy's indexing by several arrays cost 50-100
    microseconds for 10,000-23,000 persons, a tenth of the Mesa benchmark's year). Negative indices
    count from the end as in numpy; anything else (other types, broadcasting, an index out of range)
    is numpy's indexing, which also raises its IndexError; so are fewer than `TABLE_AT_FROM` values or
    more than `TABLE_AT_UP_TO` (numpy's is quicker there)."""
    n = indices[0].size if indices and isinstance(indices[0], np.ndarray) else -1
    if (TABLE_AT_FROM <= n <= TABLE_AT_UP_TO and isinstance(table, np.ndarray) and table.dtype == np.float64
            and 2 <= table.ndim == len(indices) <= 5 and all(isinstance(i, np.ndarray) and i.ndim == 1 and i.size == n and i.dtype.kind in "iu"
                    and not (i.dtype.kind == "u" and i.dtype.itemsize == 8) for i in indices)):
        out, inside = _table_at(np.ascontiguousarray(table).ravel(), np.array(table.shape, dtype=np.int64),
                                tuple(i.astype(np.int64, copy=False) for i in indices))
        if inside:
            return out
    return table[indices]


@numba.njit(cache=True, nogil=True)
def _table_at(flat: np.ndarray, shape: np.ndarray, indices) -> tuple[np.ndarray, bool]:
    """(`table_at` of the C-ordered `flat` table of `shape`, whether every index was in range)."""
    out = np.empty(indices[0].size, dtype=flat.dtype)
    for i in range(out.size):
        k = 0
        for d in range(len(indices)):
            j = indices[d][i]
            if j < 0:
                j += shape[d]
            if j < 0 or j >= shape[d]:
                return out, False
            k = k * shape[d] + j
        out[i] = flat[k]
    return out, True


def positions(ids: np.ndarray, wanted: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Positions of `wanted` in `ids` (all present; `order`: the ascending order of `ids` when known)."""
    order = np.argsort(ids, kind="stable") if order is None else order
    return order[search(ids[order], wanted)]


def sort_order(*keys: np.ndarray, stable: bool = True) -> np.ndarray:
    """The row order sorting by `keys` (first key first): `np.lexsort(keys[::-1])`, by polars'
    multithreaded sort (`np.lexsort` of three keys of 7.7 million rows took 5.3 s CPU, this 1.8 s
    unstable, 2.8 s stable). `stable=False`: rows equal in every key in any order (for keys that make
    every row distinct, or where the order among equal rows does not matter)."""
    if keys[0].size == 0:
        return np.zeros(0, dtype=np.int64)
    frame = pl.DataFrame({f"k{i}": np.asarray(k) for i, k in enumerate(keys)})
    return frame.select(pl.arg_sort_by(*frame.columns, maintain_order=stable))["k0"].to_numpy().astype(np.int64)


def sorted_groups(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`np.unique(ordered, return_index=True, return_counts=True)` of an ascending array, by its
    boundaries (np.unique sorts again: 0.6-1.8 s on seven million sorted codes, this 0.01 s)."""
    if ordered.size == 0:
        return ordered.copy(), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], starts, np.diff(np.r_[starts, ordered.size])


def sorted_union(first: pl.DataFrame, second: pl.DataFrame, by: tuple[str, ...]) -> pl.DataFrame:
    """`pl.concat([first, second], how="vertical_relaxed").sort(*by)` for frames without a common
    value of `by[0]` (the caller's promise: rows of different persons). When `first` is already
    sorted by `by` and each frame's rows are distinct in `by`, the sorted `second` is merged into
    it (linear) instead of sorting both: a sort of rows distinct in its keys has one result, so the
    two are equal; otherwise (ties, nulls, different column types) that sort itself."""
    second = second.sort(*by)
    if first.schema == second.schema and _strictly_sorted(first, by) and _strictly_sorted(second, by):
        return first.merge_sorted(second, key=by[0])
    return pl.concat([first, second], how="vertical_relaxed").sort(*by)


def sorted_union_of_kept(first: pl.DataFrame, keep: np.ndarray, second: pl.DataFrame, by: tuple[str, ...]
                         ) -> pl.DataFrame:
    """`sorted_union(first.filter(keep), second, by)` without the filtered copy of `first` (memory:
    the year's kept register rows, most of last year's, were a second copy beside the merged
    result): when `first` itself is strictly sorted by `by` (so its kept rows are), the rows are
    gathered once, in merged order, from `first` and the sorted `second` side by side (no copy);
    otherwise that `sorted_union`. The caller's promise as there: no common value of `by[0]`. A
    `second` already strictly sorted is not sorted again (a sort of rows distinct in its keys
    returns them as they are)."""
    second_sorted = _strictly_sorted(second, by)      # already (the year's donated person_years): no sort
    if not second_sorted:
        second = second.sort(*by)
        second_sorted = _strictly_sorted(second, by)
    if not (first.schema == second.schema and first.schema[by[0]].is_integer() and _strictly_sorted(first, by)
            and second_sorted):
        return sorted_union(first.filter(pl.Series(keep, dtype=pl.Boolean)), second, by)
    keep = np.asarray(keep, dtype=bool)
    rows = first.height + second.height          # polars' own index type: no converted copy of `take`
    take = np.empty(int(np.count_nonzero(keep)) + second.height, dtype=np.uint32 if rows < 1 << 32 and
                    pl.get_index_type() == pl.UInt32 else np.int64)
    _merged_take(first[by[0]].to_numpy(), keep, second[by[0]].to_numpy(), take)
    return pl.concat([first, second], rechunk=False)[take]


@numba.njit(cache=True, nogil=True)
def _merged_take(first: np.ndarray, keep: np.ndarray, second: np.ndarray, take: np.ndarray) -> None:
    """The rows of `sorted_union_of_kept` in merged order, by one walk through both ascending key
    columns: each row of `second` goes after the kept rows of `first` with a smaller key (as
    `np.searchsorted(kept keys, second keys, "left")` places it) and after the rows of `second`
    before it; `second`'s rows are numbered after `first`'s. Before: the kept keys gathered, a
    binary search of every row of `second` and two scatters through a mask (0.18 s against 0.05 s
    for 6 + 1.8 million synthetic rows)."""
    i, n, at = 0, first.size, 0
    for j in range(second.size):
        x = second[j]
        while i < n and first[i] < x:
            if keep[i]:
                take[at] = i
                at += 1
            i += 1
        take[at] = n + j
        at += 1
    while i < n:
        if keep[i]:
            take[at] = i
            at += 1
        i += 1


def _strictly_sorted(frame: pl.DataFrame, by: tuple[str, ...]) -> bool:
    """Whether no key of `by` is null and every row's `by` is greater than the row's before
    (lexicographically)."""
    if frame.select(pl.any_horizontal(pl.col(*by).is_null()).any()).item():
        return False
    later = pl.lit(False)
    for key in reversed(by):        # (k1 > k1') | (k1 == k1') & ((k2 > k2') | ...)
        now, before = pl.col(key), pl.col(key).shift()
        later = (now > before) | ((now == before) & later)
    return bool(frame.select(later.slice(1).all()).item())


__all__ = ["SEARCH_IN_ORDER", "TABLE_AT_FROM", "TABLE_AT_UP_TO", "is_in", "merged_positions", "positions", "search", "sorted_positions", "sort_order", "sorted_groups", "sorted_lookup",
           "table_at",
           "sorted_union", "sorted_union_of_kept"]
