"""STATE.csv and OPTIONS.csv of `boligmix plan optimise`, read strictly.

STATE.csv: one row, `area_id,family_dwellings,all_dwellings,demolished_since_2010,commercial_m2`
(as written by `boligmix plan share`, whose extra columns `year`, `share`, `area_name` and
`municipality` are allowed; the names go beside the id in every output).

OPTIONS.csv: `option_id,kind,family_dwellings,new_dwellings,commercial_m2,cost_dkk,households,year,
excludes,requires`; `kind` one of demolish, sell, convert, build; `excludes`/`requires` are
';'-separated option ids; a quantity column that does not apply to the kind must be 0.
"""

from __future__ import annotations

import os

from boligmix.errors import DataValidationError
from boligmix.lists.pipeline import NAME_COLUMNS
from boligmix.plan.actions import ACTION_KINDS, APPLIES, QUANTITIES, Action, AreaState
from boligmix.plan.csvread import read_text_table

STATE_COLUMNS = ("area_id", "family_dwellings", "all_dwellings", "demolished_since_2010", "commercial_m2")
OPTION_COLUMNS = ("option_id", "kind", "family_dwellings", "new_dwellings", "commercial_m2", "cost_dkk",
                  "households", "year", "excludes", "requires")


def read_state(path: str | os.PathLike[str], area: str | None = None) -> tuple[AreaState, int | None]:
    """The area state and its `year` column (None when absent). STATE.csv holds one row, or several
    (e.g. all of `plan share`'s) when `area` names the row to use."""
    t = read_text_table(path, STATE_COLUMNS, optional=("year", "share", *NAME_COLUMNS))
    ids = t.ids("area_id", unique=True)
    family, alld, dem = t.counts("family_dwellings"), t.counts("all_dwellings"), t.counts("demolished_since_2010")
    commercial = t.amounts("commercial_m2")
    year = t.counts("year", optional=True) if t.has("year") else [0] * t.height
    for i in range(t.height):
        if family[i] > alld[i]:
            t.fail(i, "family_dwellings", f"more family dwellings ({family[i]}) than dwellings ({alld[i]})")
    t.raise_if_any()
    if area is not None:
        if area not in ids:
            raise DataValidationError(f"no row for area '{area}'", path=str(path), column="area_id")
        i = ids.index(area)
    elif t.height != 1:
        raise DataValidationError(f"STATE must hold exactly one row (the area being planned), it has {t.height}; "
                                  "name the area with --area", path=str(path))
    else:
        i = 0
    state = AreaState(ids[i], family[i], alld[i], dem[i], commercial[i])
    has_year = t.has("year") and t.columns["year"][i] is not None
    return state, (year[i] if has_year else None)


def read_state_names(path: str | os.PathLike[str], area_id: str) -> tuple[str | None, str | None]:
    """The area name and municipality of `area_id` in STATE.csv (`plan share` writes them beside
    the id); (None, None) when the file has no such columns."""
    t = read_text_table(path, STATE_COLUMNS, optional=NAME_COLUMNS)
    if not any(t.has(c) for c in NAME_COLUMNS):
        return None, None
    i = t.ids("area_id").index(area_id)
    name, municipality = (t.text(c)[i] if t.has(c) else None for c in NAME_COLUMNS)
    return name, municipality


def read_options(path: str | os.PathLike[str]) -> list[Action]:
    """Every option, checked: unique ids, known kinds, non-negative whole counts, known references."""
    t = read_text_table(path, OPTION_COLUMNS[:8], optional=OPTION_COLUMNS[8:])
    if t.height == 0:
        raise DataValidationError("the file has a header but no options", path=str(path))
    ids = t.ids("option_id", unique=True)
    kinds = t.ids("kind")
    for i, k in enumerate(kinds):
        if k is not None and k not in ACTION_KINDS:
            t.fail(i, "kind", f"unknown kind '{k}'; use one of {', '.join(ACTION_KINDS)}")
    quantities = {"family_dwellings": t.counts("family_dwellings"), "new_dwellings": t.counts("new_dwellings"),
                  "commercial_m2": t.amounts("commercial_m2")}
    cost, households = t.amounts("cost_dkk"), t.counts("households")
    years = t.counts("year")
    excludes, requires = t.id_lists("excludes"), t.id_lists("requires")
    for i, k in enumerate(kinds):
        if k in APPLIES:
            for q in QUANTITIES:
                if q not in APPLIES[k] and quantities[q][i]:
                    t.fail(i, q, f"must be 0 for kind '{k}' (it uses {', '.join(sorted(APPLIES[k]))})")
    known = {v for v in ids if v is not None}
    t.check_refs("excludes", excludes, known, "option id")
    t.check_refs("requires", requires, known, "option id")
    for col, refs in (("excludes", excludes), ("requires", requires)):
        for i, (own, listed) in enumerate(zip(ids, refs)):
            if own is not None and own in listed:
                t.fail(i, col, f"option '{own}' {col} itself")
    t.raise_if_any()
    return [Action(ids[i], kinds[i], quantities["family_dwellings"][i], quantities["new_dwellings"][i],
                   quantities["commercial_m2"][i], cost[i], households[i], years[i], excludes[i], requires[i])
            for i in range(t.height)]


__all__ = ["OPTION_COLUMNS", "STATE_COLUMNS", "read_options", "read_state", "read_state_names"]
