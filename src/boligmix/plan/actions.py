"""The action vocabulary of a development plan: demolish, sell, convert, build.

Shared by the plan optimiser and (later) the simulation, so a chosen plan means the same thing
everywhere. An `AreaState` holds the four quantities of the 40 % share; `apply_action` returns
the state after one action is complete. Counting (rules-spec 7.2, almenboligloven § 168 a):

* ``demolish`` n family dwellings: they leave the numerator and the dwelling count but join
  ``demolished_since_2010``, so the denominator is unchanged;
* ``sell`` / ``convert`` n family dwellings: they leave the numerator and stay in the denominator
  (sold: now private; converted: relabelled, e.g. to youth or elderly dwellings);
* ``build`` n dwellings and m m² of commercial floor space: they join the denominator.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

ActionKind = Literal["demolish", "sell", "convert", "build"]
ACTION_KINDS: tuple[ActionKind, ...] = ("demolish", "sell", "convert", "build")

APPLIES: dict[str, frozenset[str]] = {
    "demolish": frozenset({"family_dwellings"}),
    "sell": frozenset({"family_dwellings"}),
    "convert": frozenset({"family_dwellings"}),
    "build": frozenset({"new_dwellings", "commercial_m2"}),
}
"""The quantity columns each kind uses; the others must be 0."""

QUANTITIES: tuple[str, ...] = ("family_dwellings", "new_dwellings", "commercial_m2")


@dataclass(frozen=True)
class AreaState:
    """The quantities of the 40 % share for one area at one moment."""

    area_id: str
    family_dwellings: int
    all_dwellings: int
    demolished_since_2010: int = 0
    commercial_m2: float = 0.0


@dataclass(frozen=True)
class Action:
    """One plan option: what it does, what it costs, whom it displaces and when it is complete.

    `year` is the year the action is complete; it counts for the share on 1 January of the
    following year. `excludes` / `requires` name other options (`requires`: all of them)."""

    option_id: str
    kind: ActionKind
    family_dwellings: int = 0
    new_dwellings: int = 0
    commercial_m2: float = 0.0
    cost_dkk: float = 0.0
    households: int = 0
    year: int = 0
    excludes: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def counts_from(self) -> int:
        """The first 1 January on which the action counts for the share."""
        return self.year + 1


def apply_action(state: AreaState, action: Action) -> AreaState:
    """The state after `action` is complete (no check that enough family dwellings are left)."""
    if action.kind == "demolish":
        return replace(state, family_dwellings=state.family_dwellings - action.family_dwellings,
                       all_dwellings=state.all_dwellings - action.family_dwellings,
                       demolished_since_2010=state.demolished_since_2010 + action.family_dwellings)
    if action.kind in ("sell", "convert"):
        return replace(state, family_dwellings=state.family_dwellings - action.family_dwellings)
    if action.kind == "build":
        return replace(state, all_dwellings=state.all_dwellings + action.new_dwellings,
                       commercial_m2=state.commercial_m2 + action.commercial_m2)
    raise ValueError(f"unknown action kind {action.kind!r}")


def apply_actions(state: AreaState, actions: "list[Action] | tuple[Action, ...]", *,
                  on: int | None = None) -> AreaState:
    """The state after every action in `actions` (only those counting on 1 January `on`, if given)."""
    for action in actions:
        if on is None or action.counts_from <= on:
            state = apply_action(state, action)
    return state


__all__ = ["ACTION_KINDS", "APPLIES", "Action", "ActionKind", "AreaState", "QUANTITIES", "apply_action",
           "apply_actions"]
