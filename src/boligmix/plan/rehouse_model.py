"""The rehousing problem: households, vacancies, wishes and caps, and which dwelling suits whom.

A dwelling is suitable for a household when (each a switch of `rules/plan/rehousing_2021.yaml`):
it lies in the household's municipality; inside its `scope_area` when set (§ 86, stk. 1); it has
persons + 1 rooms or the rooms of the former dwelling (§ 86, stk. 2); its rent is at most
`max_rent_share` of the monthly income (UNCONFIRMED); it is available on or before `move_by`.
`suitable_edges` builds only the suitable (household, dwelling) pairs, by joins on municipality
and rooms, so the optimiser works on a sparse graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from boligmix.errors import ConfigurationError
from boligmix.plan.rules import RuleFile, load_rehousing_rules

MAX_CROSS_PAIRS = 20_000_000
"""Refuse a household x vacancy cross product larger than this (no join key left to prune it)."""
CONDITIONS = ("same_municipality", "within_scope_area", "size_rule", "rent_rule", "available_by_move_date")


@dataclass(frozen=True)
class Suitability:
    """The suitability switches in effect and the costs of the objective."""

    same_municipality: bool
    within_scope_area: bool
    size_rule: bool
    rent_rule: bool
    max_rent_share: float
    available_by_move_date: bool
    wish_rank_step: int
    unwished_area: int
    unplaced: int
    rules: RuleFile

    @classmethod
    def load(cls, switches: Mapping[str, Any] | None = None, rules: RuleFile | None = None) -> "Suitability":
        rules = rules or load_rehousing_rules()
        v = rules.switch_values(switches)
        costs = rules.spec.costs
        return cls(bool(v["same_municipality"]), bool(v["within_scope_area"]), bool(v["size_rule"]),
                   bool(v["rent_rule"]), float(v["max_rent_share"]), bool(v["available_by_move_date"]),
                   costs.wish_rank_step, costs.unwished_area, costs.unplaced, rules)

    def switches(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in (*CONDITIONS, "max_rent_share")}


@dataclass
class RehousingProblem:
    """Typed input tables (see `boligmix.plan.rehouse_io` for the CSV formats).

    households: household_id, persons, rooms_before, monthly_income_dkk, outside_work (bool),
    municipality_code, scope_area (nullable), move_by (date); vacancies: dwelling_id, area_id,
    municipality_code, rooms, monthly_rent_dkk, available_from; wishes: household_id, rank, area_id;
    caps: area_id, max_outside_work (and optional composition columns)."""

    households: pl.DataFrame
    vacancies: pl.DataFrame
    wishes: pl.DataFrame
    caps: pl.DataFrame

    def cap_of(self) -> dict[str, int]:
        return dict(zip(self.caps.get_column("area_id").to_list(), self.caps.get_column("max_outside_work").to_list()))


def _indexed(problem: RehousingProblem) -> tuple[pl.DataFrame, pl.DataFrame]:
    h = problem.households.with_row_index("h").with_columns(pl.col("h").cast(pl.Int64))
    v = problem.vacancies.with_row_index("d").with_columns(pl.col("d").cast(pl.Int64))
    return h, v


def _candidates(h: pl.DataFrame, v: pl.DataFrame, suit: Suitability) -> pl.DataFrame:
    """Household x vacancy pairs passing the municipality and size conditions (by joins)."""
    left = h.select("h", "municipality_code", "persons", "rooms_before", "monthly_income_dkk", "scope_area", "move_by")
    right = v.select("d", pl.col("area_id").alias("v_area"), pl.col("municipality_code").alias("v_mun"), "rooms",
                     "monthly_rent_dkk", "available_from")
    keys_l: list[str] = []
    keys_r: list[str] = []
    if suit.size_rule:
        left = pl.concat([left.with_columns((pl.col("persons") + 1).alias("want_rooms")),
                          left.with_columns(pl.col("rooms_before").alias("want_rooms"))]).unique(["h", "want_rooms"])
        keys_l.append("want_rooms")
        keys_r.append("rooms")
    if suit.same_municipality:
        keys_l.append("municipality_code")
        keys_r.append("v_mun")
    if keys_l:
        return left.join(right, left_on=keys_l, right_on=keys_r, how="inner")
    if left.height * right.height > MAX_CROSS_PAIRS:
        raise ConfigurationError(
            f"with both size_rule and same_municipality off every household is paired with every vacancy "
            f"({left.height:,} x {right.height:,}); keep one of them on or split the problem", field="switch")
    return left.join(right, how="cross")


def _filters(suit: Suitability) -> list[tuple[str, pl.Expr]]:
    out: list[tuple[str, pl.Expr]] = []
    if suit.within_scope_area:
        out.append(("within_scope_area", pl.col("scope_area").is_null() | (pl.col("scope_area") == pl.col("v_area"))))
    if suit.rent_rule:
        out.append(("rent_rule", pl.col("monthly_rent_dkk") <= suit.max_rent_share * pl.col("monthly_income_dkk")))
    if suit.available_by_move_date:
        out.append(("available_by_move_date", pl.col("available_from") <= pl.col("move_by")))
    return out


def suitable_edges(problem: RehousingProblem, suit: Suitability) -> pl.DataFrame:
    """Every suitable pair: h, d (row indices), area_id, rank (null: not wished), cost."""
    h, v = _indexed(problem)
    pairs = _candidates(h, v, suit)
    for _, expr in _filters(suit):
        pairs = pairs.filter(expr)
    wishes = problem.wishes.join(h.select("household_id", "h"), on="household_id").select(
        "h", pl.col("area_id").alias("v_area"), "rank")
    pairs = pairs.select("h", "d", "v_area").unique(["h", "d"]).join(wishes, on=["h", "v_area"], how="left")
    cost = pl.when(pl.col("rank").is_null()).then(pl.lit(suit.unwished_area)).otherwise(
        (pl.col("rank") - 1) * suit.wish_rank_step)
    return pairs.select("h", "d", pl.col("v_area").alias("area_id"), "rank", cost.cast(pl.Int64).alias("cost")).sort(
        "h", "d")


def unsuitable_reason(problem: RehousingProblem, suit: Suitability, households: list[int]) -> dict[int, str]:
    """For households (row indices) with no suitable dwelling: the first condition that leaves none."""
    if not households:
        return {}
    h, v = _indexed(problem)
    sub = h.filter(pl.col("h").is_in(households))
    words = {"municipality": "no vacancy in the municipality",
             "size_rule": "no dwelling of suitable size (persons + 1 rooms or the former number of rooms)",
             "within_scope_area": "no suitable dwelling inside the scope area (§ 86)",
             "rent_rule": f"no dwelling of suitable size with rent at most {suit.max_rent_share:.0%} of income",
             "available_by_move_date": "no suitable dwelling available by move_by"}
    reasons: dict[int, str] = {}
    if suit.same_municipality:
        present = set(v.get_column("municipality_code").to_list())
        for hh, mun in zip(sub.get_column("h").to_list(), sub.get_column("municipality_code").to_list()):
            if mun not in present:
                reasons[hh] = words["municipality"]
    pairs = _candidates(sub, v, suit)
    alive = set(pairs.get_column("h").to_list())
    for hh in households:
        if hh not in reasons and hh not in alive:
            reasons[hh] = words["size_rule"] if suit.size_rule else words["municipality"]
    for name, expr in _filters(suit):
        pairs = pairs.filter(expr)
        now = set(pairs.get_column("h").to_list())
        for hh in alive - now:
            reasons.setdefault(hh, words[name])
        alive = now
    return reasons


__all__ = ["CONDITIONS", "RehousingProblem", "Suitability", "suitable_edges", "unsuitable_reason"]
