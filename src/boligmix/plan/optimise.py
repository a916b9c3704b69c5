"""Choose development-plan options that bring the 40 % share down to the target at least cost.

The model is a 0/1 program solved exactly with OR-Tools CP-SAT. One boolean per option; the
share constraint on 1 January of the target year is linear once multiplied out, and every
coefficient is an exact integer (`ShareFormula.scaled_effect`), so "reaches the target" has no
rounding. Constraints: the target share from the options complete before the target year,
`requires` (an option needs all it lists), `excludes` (not both), and no more family dwellings
removed than the area has. `minimise="households"` first minimises displaced households and
then, with that optimum fixed, the cost (a lexicographic tie-break, both proven optimal).

When no choice reaches the target, `PlanInfeasibleError` carries the lowest share the options
can reach (an exact fractional minimisation by Dinkelbach's method on the same model) and which
constraint binds: the options completing too late, `excludes`, `requires`, or the options
themselves being too few.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from boligmix.errors import ConfigurationError, OptimisationError
from boligmix.plan.actions import Action, AreaState, apply_actions
from boligmix.plan.share import ShareFormula

Minimise = Literal["cost", "households"]
REMOVES_FAMILY = frozenset({"demolish", "sell", "convert"})


class PlanInfeasibleError(OptimisationError):
    """No choice of options reaches the target share by the target year.

    `lowest_share` is the lowest share the options can reach under all constraints; `binding`
    names the constraints whose relaxation would reach the target (empty when no relaxation
    would: the options are too few); `relaxed` maps each relaxation to the share it reaches."""

    def __init__(self, message: str, *, lowest_share: float | None, binding: list[str],
                 relaxed: dict[str, float | None]) -> None:
        self.lowest_share, self.binding, self.relaxed = lowest_share, binding, relaxed
        super().__init__(message)


@dataclass
class PlanResult:
    """The chosen options, the objective and how sure the solver is, and the yearly timeline."""

    chosen: dict[str, bool]
    minimise: str
    objective: float
    cost_dkk: float
    households: int
    status: str
    proven_optimal: bool
    bound: float
    gap: float
    seconds: float
    target: float
    target_year: int
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def chosen_ids(self) -> list[str]:
        return [k for k, v in self.chosen.items() if v]


def _check_actions(state: AreaState, actions: Sequence[Action]) -> None:
    ids = [a.option_id for a in actions]
    if len(set(ids)) != len(ids):
        raise ConfigurationError("duplicate option ids", field="option_id")
    known = set(ids)
    for a in actions:
        for ref in (*a.excludes, *a.requires):
            if ref not in known:
                raise ConfigurationError(f"option {a.option_id} refers to unknown option '{ref}'", field="option_id")


class _Model:
    """The CP-SAT model of one plan problem, with switches for the diagnostic relaxations."""

    def __init__(self, state: AreaState, actions: Sequence[Action], formula: ShareFormula, by: int, *,
                 use_year: bool = True, use_excludes: bool = True, use_requires: bool = True) -> None:
        from ortools.sat.python import cp_model

        self.cp_model = cp_model
        self.state, self.actions, self.formula, self.by = state, list(actions), formula, by
        self.model = cp_model.CpModel()
        self.x = [self.model.NewBoolVar(f"x_{i}") for i in range(len(self.actions))]
        index = {a.option_id: i for i, a in enumerate(self.actions)}
        if use_requires:
            for i, a in enumerate(self.actions):
                for ref in a.requires:
                    self.model.Add(self.x[i] <= self.x[index[ref]])
        if use_excludes:
            for i, a in enumerate(self.actions):
                for ref in a.excludes:
                    j = index[ref]
                    if i != j:
                        self.model.Add(self.x[i] + self.x[j] <= 1)
                    else:
                        self.model.Add(self.x[i] == 0)
        removed = [(a.family_dwellings, self.x[i]) for i, a in enumerate(self.actions) if a.kind in REMOVES_FAMILY]
        if removed:
            self.model.Add(sum(f * v for f, v in removed) <= state.family_dwellings)
        self.counted = [i for i, a in enumerate(self.actions) if not use_year or a.counts_from <= by]
        self.n0 = state.family_dwellings * formula.scale
        self.d0 = formula.scaled_denominator(state)
        self.effects = {i: formula.scaled_effect(self.actions[i]) for i in self.counted}

    def numerator(self):
        return self.n0 + sum(dn * self.x[i] for i, (dn, _) in self.effects.items() if dn)

    def denominator(self):
        return self.d0 + sum(dd * self.x[i] for i, (_, dd) in self.effects.items() if dd)

    def add_target(self, target: Fraction) -> None:
        self.model.Add(target.denominator * self.numerator() <= target.numerator * self.denominator())

    def solve(self, objective, time_limit: float) -> tuple[Any, Any]:
        self.model.Minimize(objective)
        solver = self.cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        # One worker with the full LP relaxation: deterministic, and on these knapsack-like models with
        # large costs far faster than two workers without it (200 options: 0.1 s against 50 s, measured).
        solver.parameters.num_workers = 1
        solver.parameters.linearization_level = 2
        solver.parameters.random_seed = 0
        status = solver.Solve(self.model)
        return solver, status

    def values(self, solver) -> list[bool]:
        return [bool(solver.Value(v)) for v in self.x]

    def share_of(self, chosen: Sequence[bool]) -> Fraction | None:
        n = self.n0 + sum(dn for i, (dn, _) in self.effects.items() if chosen[i])
        d = self.d0 + sum(dd for i, (_, dd) in self.effects.items() if chosen[i])
        return Fraction(n, d) if d > 0 else None


def lowest_share(state: AreaState, actions: Sequence[Action], formula: ShareFormula, by: int, *,
                 use_year: bool = True, use_excludes: bool = True, use_requires: bool = True,
                 time_limit: float = 10.0) -> tuple[Fraction | None, list[bool]]:
    """The lowest share on 1 January `by` over all allowed choices (Dinkelbach's method, exact)."""
    m = _Model(state, actions, formula, by, use_year=use_year, use_excludes=use_excludes, use_requires=use_requires)
    chosen = [False] * len(m.actions)
    best = m.share_of(chosen)
    if best is None:
        return None, chosen
    for _ in range(100):
        objective = best.denominator * m.numerator() - best.numerator * m.denominator()
        solver, status = m.solve(objective, time_limit)
        if status not in (m.cp_model.OPTIMAL, m.cp_model.FEASIBLE):
            break
        candidate = m.values(solver)
        value = m.share_of(candidate)
        if value is None or value >= best:
            break
        best, chosen = value, candidate
    return best, chosen


def diagnose(state: AreaState, actions: Sequence[Action], formula: ShareFormula, by: int,
             time_limit: float = 10.0) -> PlanInfeasibleError:
    """Why no choice reaches the target: the lowest share and the binding constraints."""
    target = formula.target_fraction()
    low, _ = lowest_share(state, actions, formula, by, time_limit=time_limit)
    relaxations = {
        "year": {"use_year": False},
        "excludes": {"use_excludes": False},
        "requires": {"use_requires": False},
    }
    relaxed: dict[str, float | None] = {}
    binding: list[str] = []
    for name, kwargs in relaxations.items():
        value, _ = lowest_share(state, actions, formula, by, time_limit=time_limit, **kwargs)
        relaxed[name] = None if value is None else float(value)
        if value is not None and value <= target:
            binding.append(name)
    words = {"year": f"options completing in {by - 1} or later do not count by 1 January {by}",
             "excludes": "the 'excludes' constraints", "requires": "the 'requires' constraints"}
    low_text = "undefined (no dwellings)" if low is None else f"{float(low):.4f}"
    if binding:
        why = "; ".join(f"{words[b]} (without them: {relaxed[b]:.4f})" for b in binding)
        message = (f"no choice of options reaches a share of {formula.target:.4f} by 1 January {by}: the lowest "
                   f"reachable share is {low_text}. Binding: {why}.")
    else:
        all_free, _ = lowest_share(state, actions, formula, by, use_year=False, use_excludes=False,
                                   use_requires=False, time_limit=time_limit)
        relaxed["all"] = None if all_free is None else float(all_free)
        if all_free is not None and all_free <= target:
            binding.append("year+excludes+requires")
            message = (f"no choice of options reaches a share of {formula.target:.4f} by 1 January {by}: the lowest "
                       f"reachable share is {low_text}. Only dropping the timing, 'excludes' and 'requires' "
                       f"together would reach it ({float(all_free):.4f}).")
        else:
            free = "undefined" if all_free is None else f"{float(all_free):.4f}"
            message = (f"no choice of options reaches a share of {formula.target:.4f} by 1 January {by}: the lowest "
                       f"reachable share is {low_text}. Binding: the options themselves (the family dwellings "
                       f"they remove and the dwellings they build); even all of them, whenever complete and "
                       f"ignoring 'excludes'/'requires', reach only {free}.")
    return PlanInfeasibleError(message, lowest_share=None if low is None else float(low), binding=binding,
                               relaxed=relaxed)


def optimise_plan(state: AreaState, actions: Sequence[Action], formula: ShareFormula, *, by: int | None = None,
                  minimise: Minimise = "cost", start: int | None = None, time_limit: float = 60.0) -> PlanResult:
    """The least-cost (or fewest-households, then least-cost) choice reaching the target share on
    1 January `by` (default: the rule file's target year). Raises `PlanInfeasibleError`."""
    if minimise not in ("cost", "households"):
        raise ConfigurationError(f"--minimise must be cost or households, got '{minimise}'", field="minimise")
    by = formula.target_year if by is None else by
    _check_actions(state, actions)
    started = time.perf_counter()
    m = _Model(state, actions, formula, by)
    m.add_target(formula.target_fraction())
    cost = sum(int(round(a.cost_dkk)) * m.x[i] for i, a in enumerate(m.actions))
    households = sum(a.households * m.x[i] for i, a in enumerate(m.actions))
    first = households if minimise == "households" else cost
    solver, status = m.solve(first, time_limit)
    if status == m.cp_model.INFEASIBLE:
        raise diagnose(state, actions, formula, by, time_limit=time_limit)
    if status not in (m.cp_model.OPTIMAL, m.cp_model.FEASIBLE):
        raise OptimisationError(f"the solver found no plan within {time_limit:g} s (status "
                                f"{solver.StatusName(status)}); raise --time-limit")
    proven = status == m.cp_model.OPTIMAL
    objective, bound = solver.ObjectiveValue(), solver.BestObjectiveBound()
    if minimise == "households":
        m.model.Add(households <= int(round(objective)))  # == in effect: objective is the minimum
        hint = m.values(solver)
        for v, h in zip(m.x, hint):
            m.model.AddHint(v, h)
        remaining = max(time_limit - (time.perf_counter() - started), 1.0)
        solver2, status2 = m.solve(cost, remaining)
        if status2 in (m.cp_model.OPTIMAL, m.cp_model.FEASIBLE):
            solver, proven = solver2, proven and status2 == m.cp_model.OPTIMAL
    chosen = m.values(solver)
    status_name = "OPTIMAL" if proven else "FEASIBLE"
    gap = 0.0 if proven else abs(objective - bound) / max(abs(objective), 1e-9)
    picked = [a for a, c in zip(m.actions, chosen) if c]
    result = PlanResult(
        chosen={a.option_id: c for a, c in zip(m.actions, chosen)}, minimise=minimise, objective=objective,
        cost_dkk=float(sum(a.cost_dkk for a in picked)), households=int(sum(a.households for a in picked)),
        status=status_name, proven_optimal=proven, bound=bound, gap=gap,
        seconds=time.perf_counter() - started, target=formula.target, target_year=by)
    first_year = start if start is not None else min([a.counts_from for a in actions] + [by])
    result.timeline = timeline(state, picked, formula, min(first_year, by), by)
    return result


def timeline(state: AreaState, chosen: Sequence[Action], formula: ShareFormula, first: int, last: int) -> list[dict]:
    """The share on 1 January of each year `first`..`last` with the `chosen` actions."""
    rows = []
    for year in range(first, last + 1):
        s = apply_actions(state, list(chosen), on=year)
        rows.append({"year": year, "family_dwellings": s.family_dwellings,
                     "denominator": formula.denominator(s), "share": formula.share(s)})
    return rows


__all__ = ["Minimise", "PlanInfeasibleError", "PlanResult", "diagnose", "lowest_share", "optimise_plan",
           "timeline"]
