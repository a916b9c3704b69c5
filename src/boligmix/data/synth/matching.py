"""Vectorised housing-market matching of movers to vacant dwellings.

Movers and dwellings meet in cells (e.g. municipality x tenure). In each cell as many pairs are
formed as the smaller side allows. Non-Western movers get dwellings drawn with weights (areas
whose target non-Western share is high draw them more; weighted sampling without replacement by
exponential keys); everybody else gets a uniform draw of the remaining dwellings. Within each
group, movers ordered by socio-economic key are paired with dwellings ordered by desirability
(assortative matching), which sorts poorer movers into deprived areas.
"""

from __future__ import annotations

import numpy as np


def _cell_starts(sorted_cells: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal cells (input sorted by cell)."""
    n = len(sorted_cells)
    if n == 0:
        return np.zeros(0, np.int64)
    boundary = np.empty(n, bool)
    boundary[0] = True
    boundary[1:] = sorted_cells[1:] != sorted_cells[:-1]
    run_start = np.maximum.accumulate(np.where(boundary, np.arange(n), 0))
    return np.arange(n) - run_start


def rank_within(cells: np.ndarray, key: np.ndarray) -> np.ndarray:
    """0-based rank of each element by `key` (ascending) within its cell."""
    order = np.lexsort((key, cells))
    rank = np.empty(len(cells), np.int64)
    rank[order] = _cell_starts(cells[order])
    return rank


def match(
    mover_cell: np.ndarray,
    mover_key: np.ndarray,
    mover_nw: np.ndarray,
    dw_cell: np.ndarray,
    dw_key: np.ndarray,
    dw_nw_weight: np.ndarray,
    rng: np.random.Generator,
    mover_rank: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair movers with dwellings; returns (mover positions, dwelling positions) of the pairs.

    Where a cell has fewer dwellings than movers, movers of a lower `mover_rank` (integers) go
    first, a uniform random choice among equals."""
    n_m, n_d = len(mover_cell), len(dw_cell)
    if n_m == 0 or n_d == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    size = int(max(mover_cell.max(), dw_cell.max())) + 1
    movers_in = np.bincount(mover_cell, minlength=size)
    dw_in = np.bincount(dw_cell, minlength=size)
    k = np.minimum(movers_in, dw_in)
    # which movers get a dwelling: a uniform random subset of k per cell
    draw = rng.random(n_m)
    m_rank = rank_within(mover_cell, draw if mover_rank is None else draw + mover_rank)
    m_take = m_rank < k[mover_cell]
    nw_take = np.bincount(mover_cell[m_take & mover_nw], minlength=size)
    other_take = k - nw_take
    # which dwellings go to non-Western movers: weighted draw without replacement
    weight = np.maximum(dw_nw_weight, 1e-9)
    es_key = -np.log(rng.random(n_d)) / weight  # smallest keys first
    d_rank = rank_within(dw_cell, es_key)
    d_nw = d_rank < nw_take[dw_cell]
    rest_rank = rank_within(np.where(d_nw, -1, dw_cell), rng.random(n_d))
    d_other = ~d_nw & (rest_rank < other_take[dw_cell])
    movers_out, dwellings_out = [], []
    for m_sel, d_sel in ((m_take & mover_nw, d_nw), (m_take & ~mover_nw, d_other)):
        mi = np.flatnonzero(m_sel)
        di = np.flatnonzero(d_sel)
        mi = mi[np.lexsort((mover_key[mi], mover_cell[mi]))]
        di = di[np.lexsort((dw_key[di], dw_cell[di]))]
        movers_out.append(mi)
        dwellings_out.append(di)
    return np.concatenate(movers_out), np.concatenate(dwellings_out)
