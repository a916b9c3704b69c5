"""Development plans (the 40 % rule, almenboligloven § 168 a) and the rehousing optimiser.

    from boligmix.plan import ShareFormula, AreaState, Action, optimise_plan     # plans
    from boligmix.plan import read_problem, Suitability, rehouse                 # rehousing

Modules: `actions` (the action vocabulary demolish/sell/convert/build, shared with simulation),
`share` (the share formula), `stock` (`plan share` from a dataset), `optimise` (CP-SAT plan
optimiser), `rehouse_model` / `rehouse_solve` / `stable` / `rehouse` (rehousing), `caps`
(receiving-area caps from the list thresholds), `rules` (rules/plan/*.yaml), `*_io` and
`*_report` (files and HTML reports).
"""

from boligmix.plan.actions import ACTION_KINDS, Action, ActionKind, AreaState, apply_action, apply_actions
from boligmix.plan.optimise import PlanInfeasibleError, PlanResult, lowest_share, optimise_plan
from boligmix.plan.rehouse import RehousingResult, rehouse
from boligmix.plan.rehouse_io import read_problem
from boligmix.plan.rehouse_model import RehousingProblem, Suitability
from boligmix.plan.share import ShareFormula

__all__ = [
    "ACTION_KINDS",
    "Action",
    "ActionKind",
    "AreaState",
    "PlanInfeasibleError",
    "PlanResult",
    "RehousingProblem",
    "RehousingResult",
    "ShareFormula",
    "Suitability",
    "apply_action",
    "apply_actions",
    "lowest_share",
    "optimise_plan",
    "read_problem",
    "rehouse",
]
