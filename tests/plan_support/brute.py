"""Brute-force oracles for the plan and rehousing optimisers (tiny instances only)."""

from __future__ import annotations

import itertools
from fractions import Fraction

from boligmix.plan.actions import Action, AreaState, apply_actions


def exact_share(state: AreaState, m2_per_dwelling: int = 75) -> Fraction | None:
    den = (Fraction(state.all_dwellings) + state.demolished_since_2010
           + Fraction(str(state.commercial_m2)) / m2_per_dwelling)
    return Fraction(state.family_dwellings) / den if den > 0 else None


def allowed(actions: list[Action], chosen: tuple[bool, ...], state: AreaState, *, excludes: bool = True,
            requires: bool = True) -> bool:
    ids = {a.option_id: c for a, c in zip(actions, chosen)}
    removed = sum(a.family_dwellings for a, c in zip(actions, chosen) if c and a.kind != "build")
    if removed > state.family_dwellings:
        return False
    for a, c in zip(actions, chosen):
        if not c:
            continue
        if requires and not all(ids[r] for r in a.requires):
            return False
        if excludes and any(ids[e] for e in a.excludes):
            return False
    return True


def share_by(state: AreaState, actions: list[Action], chosen: tuple[bool, ...], by: int, *,
             use_year: bool = True) -> Fraction | None:
    picked = [a for a, c in zip(actions, chosen) if c and (not use_year or a.counts_from <= by)]
    return exact_share(apply_actions(state, picked))


def subsets(n: int):
    return itertools.product((False, True), repeat=n)


def brute_plan(state, actions, target: Fraction, by: int, minimise: str = "cost"):
    """(best key, chosen) over all subsets reaching the target, or None."""
    best = None
    for chosen in subsets(len(actions)):
        if not allowed(actions, chosen, state):
            continue
        s = share_by(state, actions, chosen, by)
        if s is None or s > target:
            continue
        cost = sum(round(a.cost_dkk) for a, c in zip(actions, chosen) if c)
        hh = sum(a.households for a, c in zip(actions, chosen) if c)
        key = (hh, cost) if minimise == "households" else (cost,)
        if best is None or key < best[0]:
            best = (key, chosen)
    return best


def brute_lowest(state, actions, by: int, **relax) -> Fraction | None:
    use_year = relax.get("use_year", True)
    values = [share_by(state, actions, c, by, use_year=use_year) for c in subsets(len(actions))
              if allowed(actions, c, state, excludes=relax.get("use_excludes", True),
                         requires=relax.get("use_requires", True))]
    values = [v for v in values if v is not None]
    return min(values) if values else None


def suitable(hh: dict, dw: dict, max_rent_share: float = 0.4) -> bool:
    """The suitability conditions written out directly (the oracle for the joins of rehouse_model)."""
    return (hh["municipality_code"] == dw["municipality_code"]
            and (hh["scope_area"] is None or hh["scope_area"] == dw["area_id"])
            and dw["rooms"] in (hh["persons"] + 1, hh["rooms_before"])
            and dw["monthly_rent_dkk"] <= max_rent_share * hh["monthly_income_dkk"]
            and dw["available_from"] <= hh["move_by"])


def brute_rehouse(households: list[dict], dwellings: list[dict], wishes: dict[tuple[str, str], int],
                  caps: dict[str, int], unwished: int = 10, unplaced: int = 1000) -> int:
    """The least total cost over every assignment (tiny cases only)."""
    options = []
    for hh in households:
        opts = [(None, unplaced)]
        for j, dw in enumerate(dwellings):
            if suitable(hh, dw):
                rank = wishes.get((hh["household_id"], dw["area_id"]))
                opts.append((j, unwished if rank is None else rank - 1))
        options.append(opts)
    best = [None]

    def walk(i: int, used: set, load: dict, cost: int) -> None:
        if best[0] is not None and cost >= best[0]:
            return
        if i == len(households):
            best[0] = cost
            return
        for j, c in options[i]:
            if j is None:
                walk(i + 1, used, load, cost + c)
                continue
            if j in used:
                continue
            area = dwellings[j]["area_id"]
            ow = households[i]["outside_work"]
            if ow and area in caps and load.get(area, 0) >= caps[area]:
                continue
            used.add(j)
            if ow:
                load[area] = load.get(area, 0) + 1
            walk(i + 1, used, load, cost + c)
            used.discard(j)
            if ow:
                load[area] -= 1

    walk(0, set(), {}, 0)
    return best[0]
