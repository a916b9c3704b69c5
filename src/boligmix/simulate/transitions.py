"""Transitions estimated from the dataset's history besides the rates of `rates.py`: education and
moves between municipalities; and the household changes the history shows, to tell whether
partnership and separation can be estimated.

Tables (written to the run's `rates-internal/` directory by `Transitions.write`):

    education.csv            person: single year of age (40 = 40+) x (highest education, source) in
                             year t-1 -> (highest education, source) in year t (person_years of persons
                             resident on 1 January of t and t+1)
    municipality_move.csv    moving household / young adult leaving home: municipality of the old
                             dwelling -> municipality of the new one
    construction.csv         dwellings first occupied in each estimation year (the data model has no
                             construction year), by municipality, tenure and area; the simulation
                             builds as many a year after the data's last year, copies of them
    household_changes.csv    per estimation year: households formed by members of two or more households
                             (partnership), persons 30+ leaving a household that goes on (separation),
                             young adults leaving home, for comparison

Each row of a table is events / persons at risk in the segment, shrunk towards the segment's parent
(all ages for education, every origin for municipalities) with `PRIOR_WEIGHT` pseudo-observations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
import polars as pl

from boligmix.simulate.lookup import find_sorted

PRIOR_WEIGHT = 20.0
EDU_AGE_CAP = 40
"""Education moves by single years of age up to 39; 40 and older form one segment."""
EDU_PAIR = ("highest_education", "education_source", "highest_education_next", "education_source_next")
SEPARATION_AGE = 30
"""A person of this age or older who leaves a household that goes on counts as a separation (younger:
leaving home, which `rates.leave_home` models)."""


@dataclass
class Transitions:
    education_states: tuple[tuple[str, str], ...]
    education: np.ndarray          # [age 0..EDU_AGE_CAP, state from, state to] cumulative
    municipalities: np.ndarray     # municipality codes, sorted
    destination: np.ndarray        # [kind: 0 household move, 1 leaving home; from; to] cumulative
    household_changes: pl.DataFrame
    built: pl.DataFrame | None = None
    """Dwellings first occupied in the estimation years (rows of the dwellings table plus `first_in`)."""

    @property
    def built_per_year(self) -> float:
        if self.built is None or self.built.height == 0:
            return 0.0
        return self.built.height / max(1, self.built["first_in"].dt.year().n_unique())

    def write(self, out_dir: str | os.PathLike[str]) -> None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        probs = np.diff(self.education, axis=-1, prepend=0.0)
        a, f, t = np.nonzero(probs > 0)
        pl.DataFrame({"age": a, "education_from": [self.education_states[i][0] for i in f],
                      "source_from": [self.education_states[i][1] for i in f],
                      "education_to": [self.education_states[i][0] for i in t],
                      "source_to": [self.education_states[i][1] for i in t],
                      "probability": probs[a, f, t]}).write_csv(out / "education.csv")
        probs = np.diff(self.destination, axis=-1, prepend=0.0)
        k, f, t = np.nonzero(probs > 0)
        pl.DataFrame({"kind": np.array(["household_move", "leaving_home"])[k],
                      "municipality_from": self.municipalities[f], "municipality_to": self.municipalities[t],
                      "probability": probs[k, f, t]}).write_csv(out / "municipality_move.csv")
        self.household_changes.write_csv(out / "household_changes.csv")
        if self.built is not None:
            (self.built.group_by(pl.col("first_in").dt.year().alias("year"), "municipality_code", "tenure", "area_id")
             .len().rename({"len": "dwellings"}).sort("year", "municipality_code", "tenure", "area_id")
             .write_csv(out / "construction.csv"))

    # -- applying them ------------------------------------------------------------------------

    def education_step(self, level: np.ndarray, source: np.ndarray, age: np.ndarray, u: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Next year's (level, source) per person from this year's, by age (uniform draws `u`); a
        state the estimation years never showed stays."""
        code = {s: i for i, s in enumerate(self.education_states)}
        state = np.array([code.get((lv, sc), -1) for lv, sc in zip(level, source)], dtype=np.int64)
        nxt = self.education_codes(state, age, u)
        known = state >= 0
        out_level, out_source = np.array(level, dtype=object), np.array(source, dtype=object)
        out_level[known] = [self.education_states[i][0] for i in nxt[known]]
        out_source[known] = [self.education_states[i][1] for i in nxt[known]]
        return out_level, out_source

    def education_codes(self, state: np.ndarray, age: np.ndarray, u: np.ndarray) -> np.ndarray:
        """`education_step` on state codes (index into `education_states`; -1: unknown, stays -1)."""
        out = np.asarray(state, dtype=np.int64).copy()
        known = np.flatnonzero(out >= 0)
        if known.size:
            out[known] = np.minimum(cumulative_draw(self.education, (np.clip(age[known], 0, EDU_AGE_CAP), out[known]),
                                                    u[known], strict=False), len(self.education_states) - 1)
        return out

    def destination_municipality(self, kind: int, municipality: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The municipality a household (kind 0) or a young adult leaving home (kind 1) seeks in; a
        municipality the estimation years never showed keeps its movers. One compiled pass (the
        draw `cumulative_draw` makes: the destinations whose cumulative share is <= u, counted)."""
        municipality = np.asarray(municipality)
        at = _destinations(self.municipalities.astype(np.int64), np.ascontiguousarray(self.destination[kind]),
                           municipality.astype(np.int64).ravel(), np.asarray(u, dtype=np.float64).ravel())
        out = municipality.copy()
        known = at >= 0
        out[known] = self.municipalities[at[known]]
        return out


@numba.njit(cache=True)
def _destinations(codes: np.ndarray, table: np.ndarray, municipality: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Per mover: the position in `codes` (ascending) of the destination drawn from the row of its
    municipality, min(#{values <= u}, last); -1 for a municipality not in `codes`."""
    out = np.full(municipality.size, -1, dtype=np.int64)
    for i in range(municipality.size):
        lo = find_sorted(codes, municipality[i])
        if lo < 0:
            continue
        count = 0
        for v in table[lo]:
            if v <= u[i]:
                count += 1
        out[i] = min(count, codes.size - 1)
    return out


@dataclass
class TransitionCounts:
    """Accumulates the events of each estimation year (`add_year`), then `finish` estimates."""

    municipalities: np.ndarray
    person_years: pl.DataFrame            # person_id, year, highest_education, education_source
    municipality_of: pl.DataFrame         # dwelling_id, municipality_code
    edu_pairs: list[pl.DataFrame] = field(default_factory=list)
    moves: list[pl.DataFrame] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)

    def add_year(self, t: int, now: pl.DataFrame, heads: pl.Series | set[int]) -> None:
        """`now`: residents on 1 January t (person_id, household_id, dwelling_id, age) with their
        household and dwelling on 1 January t+1 (hh_next, dw_next; null: no longer resident)."""
        both = now.filter(pl.col("dw_next").is_not_null())
        py = self.person_years
        self.edu_pairs.append(   # counted per cell at once: the person rows of every year are not held
            both.select("person_id", "age")
            .join(py.filter(pl.col("year") == t - 1).drop("year"), on="person_id")
            .join(py.filter(pl.col("year") == t).drop("year"), on="person_id", suffix="_next")
            .group_by(pl.col("age").clip(0, EDU_AGE_CAP), *EDU_PAIR).len()
            .with_columns(pl.col(c).cast(pl.String) for c in EDU_PAIR))   # the rates may hold them as categories
        place = self.municipality_of
        is_head = pl.col("person_id").is_in(heads.implode() if isinstance(heads, pl.Series) else list(heads))
        moved = both.filter(is_head & (pl.col("dw_next") != pl.col("dwelling_id"))).with_columns(pl.lit(0).alias("kind"))
        left = both.filter(~is_head & pl.col("age").is_between(18, 29) & (pl.col("hh_next") != pl.col("household_id"))
                           ).with_columns(pl.lit(1).alias("kind"))
        self.moves.append(pl.concat([moved, left]).select("kind", "dwelling_id", "dw_next")
                          .join(place, on="dwelling_id").join(place.rename({"dwelling_id": "dw_next",
                                                                            "municipality_code": "m_next"}),
                                                              on="dw_next")
                          .group_by("kind", "municipality_code", "m_next").len())
        # household changes: partnership (a household of t+1 with members of two or more households
        # of t) and separation (a person 30+ in another household at t+1 while the old one goes on)
        sources = both.group_by("hh_next").agg(pl.col("household_id").n_unique().alias("n"))
        goes_on = both.filter(pl.col("hh_next") == pl.col("household_id"))["household_id"].unique()
        changed = both.filter((pl.col("hh_next") != pl.col("household_id")) & pl.col("household_id").is_in(goes_on.implode()))
        self.changes.append({
            "year": t, "households": now["household_id"].n_unique(),
            "partnerships": int((sources["n"] > 1).sum()),
            "separations": int((changed["age"] >= SEPARATION_AGE).sum()),
            "leaving_home": int(changed.filter(pl.col("age").is_between(18, 29) & ~is_head).height)})

    def finish(self) -> Transitions:
        pairs = pl.concat(self.edu_pairs) if self.edu_pairs else pl.DataFrame(
            schema={"age": pl.Int64, **{c: pl.String for c in EDU_PAIR}, "len": pl.UInt32})
        states = sorted({(a, b) for a, b in pairs.select(*EDU_PAIR[:2]).unique().iter_rows()}
                        | {(a, b) for a, b in pairs.select(*EDU_PAIR[2:]).unique().iter_rows()})
        n = len(states)
        counts = np.zeros((EDU_AGE_CAP + 1, n, n))
        if pairs.height:
            coded = pl.DataFrame({"a": [s[0] for s in states], "b": [s[1] for s in states], "code": np.arange(n)},
                                 schema={"a": pl.String, "b": pl.String, "code": pl.Int64})
            f = pairs.join(coded, left_on=list(EDU_PAIR[:2]), right_on=["a", "b"], how="left", nulls_equal=True,
                           maintain_order="left")["code"].to_numpy()
            t = pairs.join(coded, left_on=list(EDU_PAIR[2:]), right_on=["a", "b"], how="left", nulls_equal=True,
                           maintain_order="left")["code"].to_numpy()
            add_counts(counts, (pairs["age"].to_numpy(), f, t), pairs["len"].to_numpy().astype(float))
        education = _cumulative(counts, counts.sum(axis=0, keepdims=True), np.eye(n)[None, :, :])
        m = self.municipalities
        moves = pl.concat(self.moves) if self.moves else pl.DataFrame(
            schema={"kind": pl.Int32, "municipality_code": pl.Int64, "m_next": pl.Int64, "len": pl.UInt32})
        dest = np.zeros((2, m.size, m.size))
        if moves.height and m.size:
            fi = np.searchsorted(m, moves["municipality_code"].to_numpy())
            ti = np.searchsorted(m, moves["m_next"].to_numpy())
            add_counts(dest, (moves["kind"].to_numpy(), fi, ti), moves["len"].to_numpy().astype(float))
        destination = _cumulative(dest, dest.sum(axis=0, keepdims=True), np.eye(m.size)[None, :, :])
        return Transitions(tuple(states), education, m, destination, pl.DataFrame(self.changes))


def add_counts(target: np.ndarray, index, values=1) -> None:
    """`np.add.at(target, index, values)` for counts (integer values: a sum is exact in any order),
    by one `np.bincount` over the flat cells (`ufunc.at` was a fifth of the national estimation's CPU)."""
    idx = tuple(np.asarray(i, dtype=np.int64) for i in (index if isinstance(index, tuple) else (index,)))
    flat = np.ravel_multi_index(idx, target.shape)
    weights = None if np.isscalar(values) and values == 1 else np.broadcast_to(
        np.asarray(values, dtype=np.float64), flat.shape)
    target += np.bincount(flat, weights=weights, minlength=target.size).reshape(target.shape)


CHUNK_ELEMENTS = 1 << 22
"""`cumulative_draw` works on at most this many values at once (32 MiB): a draw for millions of
persons over tens of states was a (persons x states) matrix of gigabytes at national scale."""


DRAW_BUCKETS = 1 << 10
"""`cumulative_draw` of a never-decreasing table first looks each draw up in a table of this many
buckets of [0, 1) per row (`_bucket_counts`): the count below the bucket's lower edge, exact, and
settled when no table value lies in the draw's bucket (almost every draw); a power of two, so
u * DRAW_BUCKETS and b / DRAW_BUCKETS are exact. 1,024: the status table's counts are 3 MB (4,096:
12 MB held, 59 MB to build)."""


def cumulative_draw(table: np.ndarray, index: tuple[np.ndarray, ...], u: np.ndarray, *, strict: bool) -> np.ndarray:
    """Per draw i: how many values of the cumulative distribution `table[index][i]` (last axis) lie
    below `u[i]` (`strict`: <, else <=), i.e. the category drawn. Rows that never decrease (every
    cumulative table here) are looked up by bucket (`_bucketed_draw`); any other table is compared
    value by value, in chunks of CHUNK_ELEMENTS."""
    n = u.size
    width = table.shape[-1]
    if width and bool(np.all(np.diff(table, axis=-1) >= 0)):       # False with a NaN anywhere
        row = np.ravel_multi_index(tuple(np.asarray(i, dtype=np.int64) for i in index), table.shape[:-1]) \
            if index else np.zeros(n, dtype=np.int64)
        return _bucketed_draw(table.reshape(-1, width), row, np.asarray(u, dtype=np.float64), strict)
    out = np.empty(n, dtype=np.int64)
    step = max(1, CHUNK_ELEMENTS // max(width, 1))
    for lo_at in range(0, n, step):
        hi_at = min(n, lo_at + step)
        cum = table[tuple(i[lo_at:hi_at] for i in index)]
        below = cum < u[lo_at:hi_at, None] if strict else cum <= u[lo_at:hi_at, None]
        out[lo_at:hi_at] = below.sum(axis=1)
    return out


def _bucket_counts(rows: np.ndarray) -> np.ndarray:
    """counts[r, b] = how many values of row r lie below b / DRAW_BUCKETS, for b = 0 .. DRAW_BUCKETS
    (v < b / G exactly when floor(v * G) < b, G a power of two; values outside [0, 1] clipped to
    the first or last bucket count the same)."""
    g = DRAW_BUCKETS
    k = np.floor(np.clip(rows * float(g), -1.0, float(g))).astype(np.int64) + 1      # 0 .. g + 1
    flat = (np.arange(rows.shape[0], dtype=np.int64)[:, None] * (g + 2) + k).reshape(-1)
    hist = np.bincount(flat, minlength=rows.shape[0] * (g + 2)).reshape(rows.shape[0], g + 2)
    return np.cumsum(hist[:, : g + 1], axis=1, dtype=np.int32)     # counts up to the row's width


_BUCKET_CACHE: dict[tuple[tuple[int, ...], bytes], np.ndarray] = {}


def _cached_bucket_counts(rows: np.ndarray) -> np.ndarray:
    """`_bucket_counts(rows)` flat, kept for the last few tables by their values (the status and
    education tables are drawn from chunk by chunk, year after year)."""
    key = (rows.shape, np.ascontiguousarray(rows).tobytes())
    if key not in _BUCKET_CACHE:
        if len(_BUCKET_CACHE) >= 4:
            _BUCKET_CACHE.pop(next(iter(_BUCKET_CACHE)))
        _BUCKET_CACHE[key] = _bucket_counts(rows).reshape(-1)
    return _BUCKET_CACHE[key]


def _bucketed_draw(rows: np.ndarray, row: np.ndarray, u: np.ndarray, strict: bool) -> np.ndarray:
    """`cumulative_draw` of never-decreasing `rows` (2-d) at row `row[i]`: the count below the lower
    edge b / G of the draw's bucket (b = floor(u * G), all of them below u), then the values from
    there on while below u (a prefix: the row never decreases); settled at once when no value lies
    in the bucket and u is below its upper edge. Equal to a binary search per draw (the values
    below u are a prefix of the row), at a few array operations per draw instead of about forty."""
    g, width = DRAW_BUCKETS, rows.shape[1]
    counts = _cached_bucket_counts(rows)
    out = np.empty(u.size, dtype=np.int64)
    step = max(1, CHUNK_ELEMENTS // 8)
    for lo_at in range(0, u.size, step):
        at = slice(lo_at, min(u.size, lo_at + step))
        x, base = u[at], row[at] * (g + 1)
        scaled = x * float(g)
        inside = (scaled >= 0.0) & (scaled < float(g))               # False for NaN
        b = np.where(inside, scaled, 0.0).astype(np.int64)
        cell = base + b
        lo = counts[cell].astype(np.int64)
        lo[~inside] = 0                                              # u < 0, >= 1 or NaN: from the row's start
        open_ = np.flatnonzero(~inside | (counts[cell + 1] != lo))
        del b, cell, scaled, inside
        if open_.size:
            values = rows.reshape(-1)
            start, xs, at_row = lo[open_], x[open_], row[at][open_] * width
            while open_.size:                                        # at most `width` rounds, few draws
                more = start < width
                v = values[at_row[more] + start[more]]
                more[more] = v < xs[more] if strict else v <= xs[more]
                lo[open_[~more]] = start[~more]
                open_, start, xs, at_row = open_[more], start[more] + 1, xs[more], at_row[more]
        out[at] = lo
    return out


def _cumulative(counts: np.ndarray, parent_counts: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """Cumulative distributions over the last axis: counts shrunk towards the parent's distribution
    with PRIOR_WEIGHT pseudo-observations; a row without data (nor parent data) stays where it is."""
    parent_total = parent_counts.sum(axis=-1, keepdims=True)
    parent = np.where(parent_total > 0, parent_counts / np.maximum(parent_total, 1e-12), stay)
    mixed = counts + PRIOR_WEIGHT * parent
    return np.cumsum(mixed / mixed.sum(axis=-1, keepdims=True), axis=-1)


def built_in(residences: pl.DataFrame, dwellings: pl.DataFrame, first: int, last: int) -> pl.DataFrame:
    """The dwellings whose first residence spell begins in `first`..`last`, with `first_in`."""
    first_in = residences.group_by("dwelling_id").agg(pl.col("move_in").min().alias("first_in"))
    return dwellings.join(first_in.filter(pl.col("first_in").dt.year().is_between(first, last)), on="dwelling_id"
                          ).sort("dwelling_id")


__all__ = ["CHUNK_ELEMENTS", "DRAW_BUCKETS", "EDU_AGE_CAP", "SEPARATION_AGE", "TransitionCounts", "Transitions", "add_counts", "built_in", "cumulative_draw"]
