"""Rehousing: place households in suitable vacancies at least cost, without over-filling capped areas.

`rehouse(problem, suitability)` solves both modes on the same suitable-edge graph:

* ``optimal``: minimum total cost (wish of rank r costs r - 1, a suitable dwelling in an area not
  wished 10, unplaced 1000; the costs are in the rule file) subject to one dwelling per household,
  one household per dwelling and each capped area receiving at most `max_outside_work` households
  with `outside_work = 1` (`boligmix.plan.rehouse_solve`, HiGHS);
* ``stable``: deferred acceptance on the wishes without caps (`boligmix.plan.stable`), so users
  see what the caps cost in wishes and what they prevent in concentration.

For each mode: the assignment, why each unplaced household is unplaced, and the receiving areas'
composition before and after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from boligmix.plan.rehouse_model import RehousingProblem, Suitability, suitable_edges, unsuitable_reason
from boligmix.plan.rehouse_solve import Graph, solve_assignment
from boligmix.plan.stable import deferred_acceptance

MODES = ("optimal", "stable")


@dataclass
class ModeResult:
    mode: str
    edge_of: np.ndarray
    assignment: pl.DataFrame
    unplaced: pl.DataFrame
    areas: pl.DataFrame
    objective: float
    bound: float | None
    gap: float | None
    status: str
    seconds: float
    details: dict[str, Any]

    def figures(self) -> dict[str, Any]:
        a = self.assignment
        placed = a.filter(pl.col("dwelling_id").is_not_null())
        n = a.height
        first = placed.filter(pl.col("wish_rank") == 1).height
        over = self.areas.filter(pl.col("over_cap") == True).height if "over_cap" in self.areas.columns else 0  # noqa: E712
        by_rank = {str(r): c for r, c in placed.group_by("wish_rank").len().sort("wish_rank").iter_rows()}
        return {"mode": self.mode, "objective": self.objective, "bound": self.bound, "gap": self.gap,
                "status": self.status, "seconds": round(self.seconds, 3), "households": n, "placed": placed.height,
                "unplaced": n - placed.height, "first_wish": first, "first_wish_share": first / n if n else None,
                "placed_by_wish_rank": {("unwished" if k == "None" else k): v for k, v in by_rank.items()},
                "areas_over_cap": over, **self.details}


@dataclass
class RehousingResult:
    problem: RehousingProblem
    suitability: Suitability
    edges: pl.DataFrame
    modes: dict[str, ModeResult]
    seconds_edges: float


def _graph(problem: RehousingProblem, edges: pl.DataFrame, suit: Suitability) -> Graph:
    caps = problem.caps
    row = {a: i for i, a in enumerate(caps.get_column("area_id").to_list())}
    cap_row = edges.get_column("area_id").replace_strict(row, default=-1, return_dtype=pl.Int64).to_numpy()
    return Graph(edges.get_column("h").to_numpy(), edges.get_column("d").to_numpy(),
                 edges.get_column("cost").to_numpy().astype(np.int64), cap_row, problem.households.height,
                 problem.vacancies.height, problem.households.get_column("outside_work").to_numpy().astype(bool),
                 caps.get_column("max_outside_work").to_numpy().astype(np.int64), suit.unplaced)


def _priority(households: pl.DataFrame) -> np.ndarray:
    days = households.get_column("move_by").cast(pl.Int64).to_numpy()
    order = np.lexsort((np.arange(len(days)), days))
    priority = np.empty(len(days), dtype=np.int64)
    priority[order] = np.arange(len(days))
    return priority


def _assignment(problem: RehousingProblem, edges: pl.DataFrame, edge_of: np.ndarray) -> pl.DataFrame:
    placed = edge_of >= 0
    idx = np.where(placed, edge_of, 0)
    if edges.height == 0:
        dwelling = area = rank = np.full(len(edge_of), None, dtype=object)
    else:
        d = edges.get_column("d").to_numpy()[idx]
        dwelling = problem.vacancies.get_column("dwelling_id").to_numpy()[d]
        area = edges.get_column("area_id").to_numpy()[idx]
        rank = edges.get_column("rank").to_numpy()[idx]
    return pl.DataFrame({
        "household_id": problem.households.get_column("household_id"),
        "dwelling_id": pl.Series([x if p else None for x, p in zip(dwelling, placed)], dtype=pl.String),
        "area_id": pl.Series([x if p else None for x, p in zip(area, placed)], dtype=pl.String),
        "wish_rank": pl.Series([None if (not p or r is None or r != r) else int(r) for r, p in zip(rank, placed)],
                               dtype=pl.Int64)})


def _unplaced(problem: RehousingProblem, suit: Suitability, g: Graph, edges: pl.DataFrame, edge_of: np.ndarray,
              mode: str) -> pl.DataFrame:
    ids = problem.households.get_column("household_id").to_list()
    out = np.flatnonzero(edge_of < 0)
    has_edge = np.zeros(g.n_h, dtype=bool)
    has_edge[g.h] = True
    reasons = unsuitable_reason(problem, suit, [int(h) for h in out if not has_edge[h]])
    used = np.zeros(g.n_d, dtype=bool)
    used[g.d[edge_of[edge_of >= 0]]] = True
    starts = np.searchsorted(g.h, np.arange(g.n_h + 1))
    areas = edges.get_column("area_id").to_numpy()
    rows = []
    for h in out:
        if not has_edge[h]:
            rows.append((ids[h], reasons.get(int(h), "no suitable dwelling")))
            continue
        own = np.arange(starts[h], starts[h + 1])
        free = own[~used[g.d[own]]]
        if len(free) and mode == "optimal":
            full = sorted(set(areas[free].tolist()))
            rows.append((ids[h], f"caps: its {len(free)} suitable dwelling(s) left free lie in areas that reached "
                                 f"their cap of households outside work ({', '.join(full)})"))
        else:
            rows.append((ids[h], f"taken: all {len(own)} suitable dwelling(s) went to other households"))
    return pl.DataFrame(rows, schema={"household_id": pl.String, "reason": pl.String}, orient="row")


def _areas(problem: RehousingProblem, assignment: pl.DataFrame, adults_per_household: float) -> pl.DataFrame:
    ow = problem.households.select("household_id", "outside_work")
    received = (assignment.filter(pl.col("dwelling_id").is_not_null()).join(ow, on="household_id")
                .group_by("area_id").agg(pl.len().alias("received"),
                                         pl.col("outside_work").sum().alias("received_outside_work")))
    vacancies = problem.vacancies.group_by("area_id").agg(pl.len().alias("vacancies"))
    caps = problem.caps
    base = pl.concat([vacancies.select("area_id"), caps.select("area_id")]).unique().sort("area_id")
    frame = (base.join(vacancies, on="area_id", how="left").join(received, on="area_id", how="left")
             .join(caps, on="area_id", how="left")
             .with_columns(pl.col("vacancies", "received", "received_outside_work").fill_null(0).cast(pl.Int64)))
    frame = frame.with_columns(
        pl.when(pl.col("max_outside_work").is_null()).then(None)
        .otherwise(pl.col("received_outside_work") > pl.col("max_outside_work")).alias("over_cap"))
    if "adults_18_64" in frame.columns and "pct_outside_work_edu" in frame.columns:
        a = adults_per_household
        before_out = pl.col("pct_outside_work_edu") * pl.col("adults_18_64") / 100
        after_den = pl.col("adults_18_64") + a * pl.col("received")
        frame = frame.with_columns(
            pl.col("pct_outside_work_edu").alias("pct_outside_work_before"),
            pl.when(after_den > 0).then(100 * (before_out + a * pl.col("received_outside_work")) / after_den)
            .alias("pct_outside_work_after"))
    keep = ["area_id", *[c for c in ("area_name",) if c in frame.columns], "vacancies", "received",
            "received_outside_work", "max_outside_work", "over_cap",
            *[c for c in ("adults_18_64", "pct_outside_work_before", "pct_outside_work_after", "threshold_pct")
              if c in frame.columns]]
    return frame.select(keep)


def rehouse(problem: RehousingProblem, suit: Suitability, *, time_limit: float = 60.0,
            modes: tuple[str, ...] = MODES) -> RehousingResult:
    """Both modes (or those in `modes`) on the same suitable-edge graph."""
    started = time.perf_counter()
    edges = suitable_edges(problem, suit)
    seconds_edges = time.perf_counter() - started
    g = _graph(problem, edges, suit)
    adults = float(suit.rules.spec.caps.adults_per_household.default)
    results: dict[str, ModeResult] = {}
    if "optimal" in modes:
        codes = edges.get_column("area_id").cast(pl.Categorical).to_physical().to_numpy()
        sol = solve_assignment(g, codes, edges.get_column("rank").is_not_null().to_numpy(), time_limit=time_limit)
        assignment = _assignment(problem, edges, sol.edge_of)
        results["optimal"] = ModeResult("optimal", sol.edge_of, assignment, _unplaced(problem, suit, g, edges,
                                        sol.edge_of, "optimal"), _areas(problem, assignment, adults),
                                        sol.objective, sol.bound, sol.gap, sol.status, sol.seconds,
                                        {"columns": sol.columns, "pricing_rounds": sol.pricing_rounds, **sol.details})
    if "stable" in modes:
        t = time.perf_counter()
        edge_of = deferred_acceptance(g.h, g.d, g.cost, g.n_h, g.n_d, _priority(problem.households))
        placed = edge_of[edge_of >= 0]
        objective = float(g.unplaced * g.n_h + (g.cost[placed] - g.unplaced).sum())
        assignment = _assignment(problem, edges, edge_of)
        results["stable"] = ModeResult("stable", edge_of, assignment, _unplaced(problem, suit, g, edges, edge_of,
                                       "stable"), _areas(problem, assignment, adults), objective, None, None,
                                       "STABLE", time.perf_counter() - t, {})
    return RehousingResult(problem, suit, edges, results, seconds_edges)


__all__ = ["MODES", "ModeResult", "RehousingResult", "rehouse"]
