"""A hand-built dataset small enough to compute the mix tables by hand (see test_mix_tables.py).

Dwellings (municipality 101 unless noted):
  1, 2: almen, department D1, area A1      3: almen, department D2, area A1
  4: almen, D3, no area                    5: private rental
  6: owner-occupied, municipality 147      7: almen, D4, area A2 (municipality 147; listed in 2011)
Persons and spells:
  p1 dansk 1970, dw1 2000-        gymnasial, employed
  p2 TUR immigrant 1975, dw5 2000 -> dw1 2010-06-01 (in-mover 2010 from private rental)
  p3 dansk 1980, dw2 2000 -> dw6 2011-03-01 (out-mover 2011 to another municipality)
  p4 dansk 1985, dw2 2000 -> dw3 2010-04-01 (internal to A1; D1 -> D2 at department level)
  p5 dansk born 2010-05-01 in dw1 (a birth)
  p6 SWE immigrant 1960, dw7 2000 -> dw2 2011-07-01 (in-mover 2011 from a listed area)
  p7 TUR immigrant 1990, first spell dw3 2011-02-01 (from abroad)
  p8 dansk 1940, dw1 2000 - died 2012-05-01
  p9 dansk 1950, dw2 2000 - emigrated 2010-09-01
  p10 TUR descendant 1995, dw4 2000- (outside A1)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from boligmix.data.io import Manifest, write_dataset
from boligmix.data.schema import TABLES


def _frame(table: str, rows: list[tuple]) -> pl.DataFrame:
    spec = TABLES[table]
    types = {"int64": pl.Int64, "float64": pl.Float64, "string": pl.String, "bool": pl.Boolean, "date": pl.Date}
    schema = {c.name: types[c.dtype] for c in spec.columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


EDU = {1: "gymnasial", 2: "grundskole", 3: "lang_videregaaende", 4: "grundskole", 6: "erhvervsfaglig",
       7: "grundskole", 8: "grundskole", 9: "uoplyst", 10: "grundskole"}
EMPLOYED = {1, 3, 4, 6, 10}
INCOME = {1: 400_000.0, 2: 150_000.0, 3: 350_000.0, 4: 300_000.0, 6: 200_000.0, 7: 90_000.0, 8: 180_000.0,
          9: 120_000.0, 10: 250_000.0}


def build(root: Path) -> Path:
    d = date
    tables = {
        "regions": _frame("regions", [(1084, "Hovedstaden")]),
        "municipalities": _frame("municipalities", [(101, "København", 1084), (147, "Frederiksberg", 1084)]),
        "countries": _frame("countries", [("DNK", "Danmark", True, "v1"), ("SWE", "Sverige", True, "v1"),
                                          ("TUR", "Tyrkiet", False, "v1")]),
        "areas": _frame("areas", [("A1", "Area One", 101, "t", None), ("A2", "Area Two", 147, "t", None)]),
        "housing_organisations": _frame("housing_organisations", [("O1", "Org One", 101), ("O2", "Org Two", 147)]),
        "departments": _frame("departments", [
            ("D1", "O1", "Dep One", 101, "A1"), ("D2", "O1", "Dep Two", 101, "A1"),
            ("D3", "O1", "Dep Three", 101, None), ("D4", "O2", "Dep Four", 147, "A2")]),
        "dwellings": _frame("dwellings", [
            (1, 101, "almen", "D1", "A1", "family", 3, 70.0, 6000.0),
            (2, 101, "almen", "D1", "A1", "family", 3, 70.0, 6000.0),
            (3, 101, "almen", "D2", "A1", "family", 2, 50.0, 5000.0),
            (4, 101, "almen", "D3", None, "family", 2, 50.0, 5000.0),
            (5, 101, "privat_udlejning", None, None, None, 2, 50.0, 7000.0),
            (6, 147, "ejer", None, None, None, 4, 100.0, None),
            (7, 147, "almen", "D4", "A2", "family", 3, 70.0, 6000.0)]),
        "persons": _frame("persons", [
            (1, d(1970, 3, 1), "M", "dansk", "DNK"), (2, d(1975, 3, 1), "F", "indvandrer", "TUR"),
            (3, d(1980, 3, 1), "M", "dansk", "DNK"), (4, d(1985, 3, 1), "F", "dansk", "DNK"),
            (5, d(2010, 5, 1), "M", "dansk", "DNK"), (6, d(1960, 3, 1), "F", "indvandrer", "SWE"),
            (7, d(1990, 3, 1), "M", "indvandrer", "TUR"), (8, d(1940, 3, 1), "F", "dansk", "DNK"),
            (9, d(1950, 3, 1), "M", "dansk", "DNK"), (10, d(1995, 3, 1), "F", "efterkommer", "TUR")]),
        "person_years": _frame("person_years", [
            (p, y, EDU[p], "dk_registered", False, INCOME[p], True)
            for p in EDU for y in range(2009, 2013) if not (p == 7 and y < 2011) and not (p == 9 and y > 2010)
        ]),
        "labour": _frame("labour", [(p, y, "employment", 1.0) for p in sorted(EMPLOYED) for y in range(2009, 2013)]
                         + [(2, y, "kontanthjaelp", 1.0) for y in range(2009, 2013)]),
        "convictions": _frame("convictions", []),
        "residences": _frame("residences", [
            (1, 11, 1, d(2000, 1, 1), None, None),
            (2, 12, 5, d(2000, 1, 1), d(2010, 6, 1), None), (2, 12, 1, d(2010, 6, 1), None, None),
            (3, 13, 2, d(2000, 1, 1), d(2011, 3, 1), None), (3, 13, 6, d(2011, 3, 1), None, None),
            (4, 14, 2, d(2000, 1, 1), d(2010, 4, 1), None), (4, 14, 3, d(2010, 4, 1), None, None),
            (5, 11, 1, d(2010, 5, 1), None, None),
            (6, 16, 7, d(2000, 1, 1), d(2011, 7, 1), None), (6, 16, 2, d(2011, 7, 1), None, None),
            (7, 17, 3, d(2011, 2, 1), None, None),
            (8, 18, 1, d(2000, 1, 1), d(2012, 5, 1), "death"),
            (9, 19, 2, d(2000, 1, 1), d(2010, 9, 1), "abroad"),
            (10, 20, 4, d(2000, 1, 1), None, None)]),
    }
    manifest = Manifest(vintage="tiny-test", source="synthetic", seed=7, years=(2009, 2012))
    return write_dataset(root, tables, manifest)
