"""The rehousing assignment as a 0/1 program on the sparse suitable-edge graph, solved with HiGHS.

One column per suitable (household, dwelling) pair; rows: each household at most one dwelling,
each dwelling at most one household, and each capped area at most `max_outside_work` households
with `outside_work = 1`. The cost of a column is its wish cost minus the cost of staying unplaced
(the constant `unplaced x households` is the objective offset).

Large graphs are solved by column generation on the LP relaxation, then a MIP on the columns
generated: start from a few columns per household and area (the dwellings fewest households can
use), solve the LP, price every suitable pair with the row duals and add those with negative
reduced cost, until none is left. The Farley bound `LP + sum over households of
min(0, most negative reduced cost)` is a valid lower bound on the full problem in every round, and
equals the full LP optimum once pricing finds nothing; the reported `bound` and `gap` are against
it, so they hold for the full problem, not only for the columns kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

FULL_MODEL_MAX_EDGES = 20_000
"""Graphs up to this many suitable pairs are solved whole, without column generation."""
START_PER_WISHED_AREA = 2
START_PER_OTHER_AREA = 1
"""Start columns per (household, wished area) and per (household, other area) in column generation."""
EPS = 1e-7


@dataclass
class AssignmentSolution:
    """`edge_of[h]`: index of the chosen edge of household h, or -1 when unplaced."""

    edge_of: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    columns: int
    pricing_rounds: int
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    """The suitable pairs as arrays: household, dwelling, cost, capped-area row (-1: uncapped)."""

    h: np.ndarray
    d: np.ndarray
    cost: np.ndarray
    cap_row: np.ndarray
    n_h: int
    n_d: int
    outside_work: np.ndarray
    caps: np.ndarray
    unplaced: int

    @property
    def n(self) -> int:
        return len(self.h)

    def capped(self, cols: np.ndarray) -> np.ndarray:
        return (self.cap_row[cols] >= 0) & self.outside_work[self.h[cols]]


def _columns(g: Graph, cols: np.ndarray):
    """CSC arrays (start, index, value) of the columns `cols`."""
    ow = g.capped(cols)
    nnz = 2 + ow.astype(np.int64)
    start = np.zeros(len(cols) + 1, dtype=np.int32)
    np.cumsum(nnz, out=start[1:])
    index = np.empty(int(start[-1]), dtype=np.int32)
    index[start[:-1]] = g.h[cols]
    index[start[:-1] + 1] = g.n_h + g.d[cols]
    index[start[:-1][ow] + 2] = g.n_h + g.n_d + g.cap_row[cols][ow]
    return start, index, np.ones(len(index), dtype=np.float64)


def _model(g: Graph, cols: np.ndarray, integer: bool):
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_ = len(cols)
    lp.num_row_ = g.n_h + g.n_d + len(g.caps)
    lp.col_cost_ = (g.cost[cols] - g.unplaced).astype(np.float64)
    lp.col_lower_ = np.zeros(len(cols))
    lp.col_upper_ = np.ones(len(cols))
    lp.row_lower_ = np.full(lp.num_row_, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.ones(g.n_h + g.n_d), g.caps.astype(np.float64)])
    start, index, value = _columns(g, cols)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start, index, value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.offset_ = float(g.unplaced * g.n_h)
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cols)
    return lp


def _highs(time_limit: float, threads: int):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(float(time_limit), 0.5))
    h.setOptionValue("threads", threads)
    h.setOptionValue("random_seed", 0)
    return h


def _reduced_costs(g: Graph, duals: np.ndarray) -> np.ndarray:
    rc = (g.cost - g.unplaced) - duals[g.h] - duals[g.n_h + g.d]
    ow = (g.cap_row >= 0) & g.outside_work[g.h]
    rc[ow] -= duals[g.n_h + g.n_d + g.cap_row[ow]]
    return rc


def _start_columns(g: Graph, area: np.ndarray, wished: np.ndarray) -> np.ndarray:
    """A few columns per (household, area): the dwellings fewest households can use."""
    popularity = np.bincount(g.d, minlength=g.n_d)[g.d]
    order = np.lexsort((g.d, popularity, area, g.h))
    hs, ar = g.h[order], area[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (hs[1:] != hs[:-1]) | (ar[1:] != ar[:-1])
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    position = np.arange(len(order)) - group_start
    limit = np.where(wished[order], START_PER_WISHED_AREA, START_PER_OTHER_AREA)
    return np.sort(order[position < limit])


def _run_mip(g: Graph, cols: np.ndarray, time_limit: float, mip_rel_gap: float, threads: int):
    mip = _highs(time_limit, threads)
    mip.setOptionValue("mip_rel_gap", mip_rel_gap)
    mip.passModel(_model(g, cols, integer=True))
    mip.run()
    status = mip.modelStatusToString(mip.getModelStatus())
    values = np.asarray(mip.getSolution().col_value)
    if values.size != len(cols):
        raise_solver(status)
    return cols[values > 0.5], float(mip.getInfo().mip_dual_bound), status


def _generate_columns(g: Graph, area: np.ndarray, wished: np.ndarray, started: float, time_limit: float,
                      threads: int):
    """Column generation on the LP relaxation: (columns, LP solution on them, valid bound, rounds)."""
    if np.any(g.h[1:] < g.h[:-1]):
        raise ValueError("edges must be sorted by household")
    starts = np.flatnonzero(np.r_[True, g.h[1:] != g.h[:-1]])
    cols = _start_columns(g, area, wished)
    in_model = np.zeros(g.n, dtype=bool)
    in_model[cols] = True
    h = _highs(time_limit, threads)
    h.passModel(_model(g, cols, integer=False))
    bound, rounds = -np.inf, 0
    while True:
        rounds += 1
        h.run()
        lp_value = h.getInfo().objective_function_value
        solution = h.getSolution()
        rc = _reduced_costs(g, np.asarray(solution.row_dual))
        # Farley bound: shift each household's dual by its most negative reduced cost outside the model.
        outside = np.minimum.reduceat(np.where(in_model, 0.0, rc), starts)
        bound = max(bound, lp_value + float(np.minimum(outside, 0.0).sum()))
        new = np.flatnonzero((rc < -EPS) & ~in_model)
        if len(new) == 0 or time.perf_counter() - started > 0.5 * time_limit:
            return cols, np.asarray(solution.col_value), bound, rounds
        start, index, value = _columns(g, new)
        h.addCols(len(new), (g.cost[new] - g.unplaced).astype(np.float64), np.zeros(len(new)), np.ones(len(new)),
                  len(index), start[:-1], index, value)
        cols = np.concatenate([cols, new])
        in_model[new] = True


def _repair(g: Graph, cols: np.ndarray, x: np.ndarray, time_limit: float, threads: int) -> np.ndarray:
    """An integer solution from an LP solution: keep its integral part, re-solve the rest as a small MIP
    over the households with fractional columns, the dwellings left free and the cap room left."""
    fixed = cols[x > 1 - 1e-6]
    fractional = (x > 1e-6) & (x < 1 - 1e-6)
    if not fractional.any():
        return fixed
    open_households = np.zeros(g.n_h, dtype=bool)
    open_households[g.h[cols[fractional]]] = True
    open_households[g.h[fixed]] = False
    used = np.zeros(g.n_d, dtype=bool)
    used[g.d[fixed]] = True
    room = g.caps.astype(np.int64).copy()
    ow_fixed = g.capped(fixed)
    np.subtract.at(room, g.cap_row[fixed][ow_fixed], 1)
    sub = np.flatnonzero(open_households[g.h] & ~used[g.d])
    if len(sub) == 0:
        return fixed
    reduced = Graph(g.h, g.d, g.cost, g.cap_row, g.n_h, g.n_d, g.outside_work, np.maximum(room, 0), g.unplaced)
    extra, _, _ = _run_mip(reduced, sub, time_limit, 1e-6, threads)
    return np.sort(np.concatenate([fixed, extra]))


def solve_assignment(g: Graph, area: np.ndarray, wished: np.ndarray, *, time_limit: float = 60.0,
                     mip_rel_gap: float = 1e-4, threads: int = 2) -> AssignmentSolution:
    """Solve the assignment; `area` (any integer code per edge) and `wished` only guide the start columns.

    Up to FULL_MODEL_MAX_EDGES pairs: one HiGHS MIP on the whole graph (its dual bound is the bound).
    Larger: column generation on the LP, then the LP solution's integral part plus a small MIP on the
    fractional rest; the bound is the LP bound of the full graph."""
    started = time.perf_counter()
    total = float(g.unplaced * g.n_h)
    if g.n == 0:
        return AssignmentSolution(np.full(g.n_h, -1), total, total, 0.0, "OPTIMAL", time.perf_counter() - started, 0, 0)
    if g.n <= FULL_MODEL_MAX_EDGES:
        cols = np.arange(g.n)
        chosen, bound, highs_status = _run_mip(g, cols, time_limit, mip_rel_gap, threads)
        rounds = 0
    else:
        cols, x, bound, rounds = _generate_columns(g, area, wished, started, time_limit, threads)
        remaining = max(time_limit - (time.perf_counter() - started), 1.0)
        chosen = _repair(g, cols, x, remaining, threads)
        highs_status = "column generation + repair"
    edge_of = np.full(g.n_h, -1, dtype=np.int64)
    edge_of[g.h[chosen]] = chosen
    objective = total + float((g.cost[chosen] - g.unplaced).sum())
    bound = min(float(bound), objective)
    gap = 0.0 if objective <= 0 else max(objective - bound, 0.0) / abs(objective)
    status = "OPTIMAL" if gap <= 1e-9 else "FEASIBLE"
    return AssignmentSolution(edge_of, objective, bound, float(gap), status, time.perf_counter() - started,
                              len(cols), rounds, {"highs_status": highs_status})


def raise_solver(status: str) -> None:
    from boligmix.errors import OptimisationError

    raise OptimisationError(f"HiGHS returned no solution (status: {status}); raise --time-limit")


__all__ = ["AssignmentSolution", "FULL_MODEL_MAX_EDGES", "Graph", "solve_assignment"]
