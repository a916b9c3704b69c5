"""Area units per rule period (rules-spec 1.2, 6.6): the 2010 and 2013 lists counted almene
departments, the lists from 2018 the parcels with all their dwellings (setting area_delineation)."""

from __future__ import annotations

import polars as pl

from boligmix.indicators import compute_area_indicators
from indicators_support import hand_built


def test_area_units_follow_the_rule_period(tmp_path):
    """Hand-built dataset with the private dwelling 4 (residents 15, 21, 22 on 1 January 2024) put
    on area A1's parcels: the 2018/2021 units count them (11 + 3 residents), the 2010/2013 units,
    the almene departments, do not (11)."""
    from boligmix.indicators import settings_for_list_year

    dwellings = hand_built.tables()["dwellings"].with_columns(
        pl.when(pl.col("dwelling_id") == 4).then(pl.lit("A1")).otherwise(pl.col("area_id")).alias("area_id"))
    path = hand_built.write(tmp_path / "ds", {"dwellings": dwellings})
    residents = {}
    assert settings_for_list_year(2011).area_delineation == "almene_departments"   # 4-year window: not computed
    for rules_year in (2015, 2019, 2024):
        settings = settings_for_list_year(rules_year)
        row = {r["area_id"]: r for r in compute_area_indicators(path, [2024], settings).iter_rows(named=True)}["A1"]
        residents[rules_year] = (settings.area_delineation, row["residents"])
    assert residents == {2015: ("almene_departments", 11),
                         2019: ("parcels", 14), 2024: ("parcels", 14)}
    # one call over list years of both periods uses each period's units
    mixed = compute_area_indicators(path, [2024], {2024: settings_for_list_year(2015)})
    assert {r["area_id"]: r["residents"] for r in mixed.iter_rows(named=True)}["A1"] == 11
