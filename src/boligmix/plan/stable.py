"""`--mode stable`: household-proposing deferred acceptance on the wishes, ignoring the caps.

Each household ranks its suitable dwellings by cost (first wish, second wish, ..., then dwellings in
areas it did not wish), ties by dwelling order; each dwelling prefers the household that must move
first (earlier `move_by`), ties by input order. The result is stable for these preferences: no
household prefers a dwelling whose holder must move later than it (Gale and Shapley 1962).
"""

from __future__ import annotations

import numpy as np


def deferred_acceptance(h: np.ndarray, d: np.ndarray, cost: np.ndarray, n_h: int, n_d: int,
                        priority: np.ndarray) -> np.ndarray:
    """`edge_of[h]` (edge index, -1 unplaced). Edges are (h, d, cost); `priority[h]`: lower moves first."""
    order = np.lexsort((d, cost, h))
    starts = np.searchsorted(h[order], np.arange(n_h + 1))
    next_choice = starts[:-1].copy()
    end = starts[1:]
    held = np.full(n_d, -1, dtype=np.int64)
    held_edge = np.full(n_d, -1, dtype=np.int64)
    free = list(range(n_h - 1, -1, -1))
    d_of = d[order]
    while free:
        hh = free.pop()
        while next_choice[hh] < end[hh]:
            k = next_choice[hh]
            next_choice[hh] += 1
            dw = d_of[k]
            cur = held[dw]
            if cur == -1 or priority[hh] < priority[cur]:
                held[dw], held_edge[dw] = hh, order[k]
                if cur != -1:
                    free.append(cur)
                break
    edge_of = np.full(n_h, -1, dtype=np.int64)
    taken = held >= 0
    edge_of[held[taken]] = held_edge[taken]
    return edge_of


__all__ = ["deferred_acceptance"]
