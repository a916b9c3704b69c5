"""The README's promise: nothing boligmix publishes shows a person count below the disclosure limit.

Runs the demo pipeline and every command that writes statistics (lists, indicators, composition,
mix, rehouse caps, rehouse, plan optimise, evaluate panel/twins/synthcontrol/did) on small synthetic data (many
small groups: departments, convicted residents, children) and walks every file they write: CSV,
Parquet, JSON and the Excel workbooks. A person-count column (residents, n, n_*, numerator,
denominator, count, base, fte_*) may hold no count from 1 to `min_count` - 1 (zeros are published:
a zero is no person; the group disclosures a zero can cause are tested in test_report_disclosure.py). The only files exempt are the ones that say they are internal: the
dataset itself (`data/`) and files whose name contains "intern" (and whose first column or key
says so).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from built_once import built_once
from indicators_support import hand_built
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.data.synth import write_synthetic
from boligmix.indicators.composition import INDICATORS
from boligmix.indicators.publish import FIELD_COUNTS, part_counts
from boligmix.pipeline import INDICATOR_LABELS, run_pipeline
from boligmix.report import DisclosurePolicy
from boligmix.report.labels import DEFAULT_LABELS

COUNT = re.compile(r"^(residents|n|n_.+|numerator|denominator|count|base|fte_.+|received|received_.+|adults_.+"
                   r"|households|placed|unplaced|first_wish)$")
INTERNAL_MARK = "INTERNAL_not_for_publication"
NOT_PERSONS = {"n_units", "adults_per_household",  # counts of units and a model parameter, not of persons
               "n_obs", "n_clusters", "n_treated_units", "n_placebos"}  # evaluate: unit-years, clusters, units
EXCEL_COUNT_HEADERS = ({t.da for c, t in {**DEFAULT_LABELS, **INDICATOR_LABELS}.items() if COUNT.match(c)}
                       | {"Antal", "Af i alt"})
LIMIT = DisclosurePolicy.load().min_count

pytestmark = pytest.mark.slow  # about 20 s on an idle 2-core machine (synthetic data, pipeline, 8 commands)


@pytest.fixture(scope="module")
def outputs() -> Path:
    """The published files (`_publish`), made once per test run (the xdist workers share them)."""
    return built_once("published-outputs", _publish) / "published"


def _publish(folder: Path) -> None:
    root, inputs = folder / "published", folder / "inputs"
    for made in (root, inputs / "rehouse-inputs", inputs / "plan-inputs"):
        made.mkdir(parents=True)
    data = write_synthetic(root / "data", scale="small", seed=11, years=(2018, 2024))
    tiny = hand_built.write(inputs / "tiny" / "data")  # three areas of 1 to 11 residents
    planted = _planted(inputs / "planted" / "data")  # 48 of 50 residents children, non-western
    run_pipeline(root / "demo", dataset=data, list_years=[2023, 2024])
    runner = CliRunner()
    for args in (["lists", "--data", data, "--years", "2023-2024", "--out", root / "lists"],
                 ["indicators", "compute", data, "-y", 2024, "--level", "department", "-o", root / "ind.csv"],
                 ["indicators", "composition", data, "-y", 2024, "--level", "department", "-o", root / "comp.csv"],
                 ["indicators", "composition", data, "-y", 2024, "--level", "department", "-o", root / "comp-internal.csv",
                  "--internal"],
                 ["mix", "--data", data, "--years", "2022-2023", "--level", "department", "--out", root / "mix"],
                 ["rehouse", *_rehousing_inputs(inputs / "rehouse-inputs"), "--out", root / "rehouse"],
                 ["rehouse", "caps", "--data", data, "--year", 2024, "--out", root / "caps" / "caps.csv"],
                 ["rehouse", "caps", "--data", data, "--year", 2024, "--out", root / "caps" / "caps-internal.csv",
                  "--internal"],
                 ["rehouse", "caps", "--data", tiny, "--year", 2024, "--out", root / "caps-tiny" / "caps.csv"],
                 ["rehouse", "caps", "--data", tiny, "--year", 2024, "--out", root / "caps-tiny" / "caps-internal.csv",
                  "--internal"],
                 ["plan", "optimise", *_plan_inputs(inputs / "plan-inputs"), "--minimise", "households",
                  "--out", root / "plan"],
                 ["lists", "--data", planted, "--years", "2024", "--out", root / "planted" / "lists"],
                 ["indicators", "compute", planted, "-y", 2024, "--level", "department", "-o",
                  root / "planted" / "ind.csv"],
                 ["indicators", "composition", planted, "-y", 2024, "--level", "department", "-o",
                  root / "planted" / "comp.csv"],
                 ["indicators", "composition", planted, "-y", 2024, "--level", "department", "-o",
                  root / "planted" / "comp-internal.csv", "--internal"]):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, (args, result.output)
    _run_evaluate(runner, data, root / "evaluate")


def _run_evaluate(runner: CliRunner, data: Path, root: Path) -> None:
    """The department panel (internal) of 2019-2024 and what is published from it. The panel is copied
    with its smallest department given 2 residents in its first year with residents (a panel as a user
    may bring one: a newly built department), so the published tables must suppress that unit; the
    treated unit is the department that enters the omdannelsesområde list. The small unit's id is
    written to `small_unit.txt`."""
    panel = root / "panel-internal.parquet"
    result = runner.invoke(app, [str(a) for a in ["evaluate", "panel", "--data", data, "--years", "2019-2024",
                                                     "--level", "department", "--out", panel]])
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(panel)
    sizes = frame.filter(pl.col("residents").is_not_null()).group_by("department_id").agg(
        pl.col("residents").min(), pl.col("year").min().alias("first"))
    small = sizes.sort("residents", "department_id")["department_id"][0]
    first = sizes.filter(pl.col("department_id") == small)["first"][0]
    treated = frame.filter(pl.col("first_omdannelse").is_not_null())["department_id"].unique().sort()
    assert treated.len() >= 1 and small not in treated.to_list()
    small_panel = root / "panel-small-internal.parquet"
    frame.with_columns(pl.when((pl.col("department_id") == small) & (pl.col("year") == first)).then(pl.lit(2))
                       .otherwise(pl.col("residents")).cast(frame.schema["residents"]).alias("residents")
                       ).write_parquet(small_panel)
    (root / "small_unit.txt").write_text(f"{small}\n{first}\n", encoding="utf-8")
    unit = ["--panel", small_panel, "--unit", "department_id", "--time", "year", "--treated-from", "first_omdannelse"]
    for args in (["evaluate", "twins", *unit, "--features", "comp_share_children,pct_non_western", "--k", 11,
                  "--out", root / "twins"],
                 ["evaluate", "synthcontrol", *unit, "--outcome", "comp_share_children", "--treated-unit", treated[0],
                  "--out", root / "synthcontrol"],
                 ["evaluate", "did", *unit, "--outcome", "comp_share_children", "--out", root / "did"]):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, (args, result.output)


def _planted(target: Path) -> Path:
    """The hand-built dataset and one more area (A4, department D5, municipality 101) whose 50
    residents are 48 non-western children, each in a household of their own, and 2 Danish adults,
    each with one of the children: 48 of 50 with a trait, 50 persons in 48 households. Every rest
    (denominator - numerator) there is 2, a count the crawl must not find published."""
    t = hand_built.tables()
    first = 1000
    people = range(first, first + 50)
    adult = {first, first + 1}
    t["areas"] = pl.concat([t["areas"], pl.DataFrame({
        "area_id": ["A4"], "area_name": ["Fire"], "municipality_code": [101], "delineation_version": ["test"],
        "polygon_wkt": pl.Series([None], dtype=pl.String)})])
    t["departments"] = pl.concat([t["departments"], pl.DataFrame({
        "department_id": ["D5"], "org_id": ["O1"], "department_name": ["d5"], "municipality_code": [101],
        "area_id": ["A4"]})])
    dwellings = t["dwellings"]
    t["dwellings"] = pl.concat([dwellings, dwellings.filter(pl.col("dwelling_id") == 1).with_columns(
        pl.lit(7, dwellings.schema["dwelling_id"]).alias("dwelling_id"), pl.lit("D5").alias("department_id"),
        pl.lit("A4").alias("area_id"))])
    persons = t["persons"]
    t["persons"] = pl.concat([persons, pl.DataFrame({
        "person_id": list(people), "birth_date": [date(1980, 1, 1) if p in adult else date(2015, 1, 1) for p in people],
        "sex": ["F" if p % 2 else "M" for p in people],
        "origin": ["dansk" if p in adult else "efterkommer" for p in people],
        "country_code": ["DNK" if p in adult else "TUR" for p in people]}, schema=persons.schema)])
    residences = t["residences"]
    household = {p: 5000 + (p - first if p in adult else p - first - 2 if p - first - 2 in (0, 1) else p - first)
                 for p in people}  # children 1000+2 and 1000+3 live with the two adults
    t["residences"] = pl.concat([residences, pl.DataFrame({
        "person_id": list(people), "household_id": [household[p] for p in people], "dwelling_id": [7] * 50,
        "move_in": [date(2016, 1, 1)] * 50, "move_out": [None] * 50, "end_reason": [None] * 50},
        schema=residences.schema)])
    return hand_built.write(target, t)


def _rehousing_inputs(folder: Path) -> list[str]:
    """12 households, 2 of them outside work, into two receiving areas: A gets 9 (1 outside work), B 3."""
    households = ["household_id,persons,rooms_before,monthly_income_dkk,outside_work,municipality_code,scope_area,"
                  "move_by"] + [f"h{i},1,2,30000,{int(i in (1, 11))},101,,2026-06-01" for i in range(12)]
    vacancies = ["dwelling_id,area_id,municipality_code,rooms,monthly_rent_dkk,available_from"] + \
        [f"d{i},{'A' if i < 9 else 'B'},101,2,5000,2026-01-01" for i in range(12)]
    wishes = ["household_id,rank,area_id"] + [f"h{i},1,{'A' if i < 9 else 'B'}" for i in range(12)]
    caps = ["area_id,max_outside_work,area_name,adults_18_64,pct_outside_work_edu", "A,3,Alfa,400,20",
            "B,3,Beta,300,10"]
    files = []
    for option, name, lines in (("--households", "H.csv", households), ("--vacancies", "V.csv", vacancies),
                                ("--wishes", "W.csv", wishes), ("--caps", "C.csv", caps)):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        files += [option, str(folder / name)]
    return files


def _plan_inputs(folder: Path) -> list[str]:
    """Selling s1 (3 households) is the plan displacing fewest households: a small total."""
    (folder / "options.csv").write_text(
        "option_id,kind,family_dwellings,new_dwellings,commercial_m2,cost_dkk,households,year,excludes,requires\n"
        "d1,demolish,200,0,0,300000000,180,2025,,\ns1,sell,450,0,0,0,3,2026,,\n", encoding="utf-8")
    (folder / "state.csv").write_text("area_id,family_dwellings,all_dwellings,demolished_since_2010,commercial_m2\n"
                                      "X,800,1000,0,0\n", encoding="utf-8")
    return ["--options", str(folder / "options.csv"), "--area-state", str(folder / "state.csv")]


def _marked_internal(path: Path) -> bool:
    """The file's first column (CSV, Parquet) or key (JSON) says it is internal."""
    if path.suffix == ".csv":
        first = pl.read_csv(path, n_rows=1).columns[0]
    elif path.suffix == ".parquet":
        first = pl.read_parquet_schema(path).names()[0]
    elif path.suffix == ".json":
        payload = json.loads(path.read_text(encoding="utf-8"))
        first = next(iter(payload), None) if isinstance(payload, dict) else None
    else:
        return False
    return first == INTERNAL_MARK


def _published(root: Path) -> list[Path]:
    """Every file but the dataset and the files marked internal (a name alone exempts nothing:
    mix's internal_almen.csv is a published table)."""
    return [p for p in sorted(root.rglob("*")) if p.is_file() and "data" not in p.relative_to(root).parts[:1]
            and not _marked_internal(p)]


def _small(values: list) -> list:
    return [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < LIMIT]


# (count of persons with a trait, count of the persons it is part of): where both are published,
# their difference (the persons without it) is published too and may not be small either
PARTS = part_counts()
PART_FIELDS = [field for field, pair in FIELD_COUNTS.items() if pair in PARTS]
MEMBERS = [name for name, spec in INDICATORS.items() if spec.members]  # persons per household: persons >= households


def _check_frame(frame: pl.DataFrame, where: str) -> int:
    checked = 0
    for column in frame.columns:
        if COUNT.match(column) and column not in NOT_PERSONS and frame.schema[column].is_numeric():
            assert _small(frame.get_column(column).to_list()) == [], (where, column)
            checked += 1
    pairs = [(frame, part, whole) for part, whole in PARTS if {part, whole} <= set(frame.columns)]
    if {"numerator", "denominator", "kind", "indicator"} <= set(frame.columns):  # composition
        pairs.append((frame.filter(pl.col("kind") == "pct"), "numerator", "denominator"))  # a pct's part
        pairs.append((frame.filter(pl.col("indicator").is_in(MEMBERS)), "denominator", "numerator"))  # households
    if {"count", "base", "field"} <= set(frame.columns):  # criteria: the count behind a share is part of its base
        pairs.append((frame.filter(pl.col("field").is_in(PART_FIELDS)), "count", "base"))
    for rows, part, whole in pairs:
        rest = rows.select((pl.col(whole) - pl.col(part)).alias("rest")).get_column("rest").drop_nulls().to_list()
        assert _small(rest) == [], (where, whole, "minus", part)
        checked += 1
    return checked


def _check_json(value, where: str) -> int:
    checked = 0
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "suppressed":  # numbers of suppressed cells by reason (e.g. "numerator": 3), not persons
                continue
            if COUNT.match(str(key)) and key not in NOT_PERSONS and isinstance(item, (int, float)) \
                    and not isinstance(item, bool):
                assert item == 0 or item >= LIMIT, (where, key, item)
                checked += 1
            checked += _check_json(item, where)
    elif isinstance(value, list):
        checked += sum(_check_json(item, where) for item in value)
    return checked


def _check_xlsx(path: Path) -> int:
    checked = 0
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        if sheet.title == "provenance":
            continue
        rows = list(sheet.iter_rows(min_row=4, values_only=True))
        if not rows:
            continue
        for j, header in enumerate(rows[0]):
            if header is not None and (COUNT.match(str(header)) or header in EXCEL_COUNT_HEADERS):
                assert _small([r[j] for r in rows[1:] if j < len(r)]) == [], (path.name, sheet.title, header)
                checked += 1
    return checked


def test_no_published_file_shows_a_count_below_the_limit(outputs):
    files = _published(outputs)
    kinds = {p.suffix for p in files}
    assert {".csv", ".parquet", ".json", ".xlsx", ".html"} <= kinds
    checked = 0
    for path in files:
        if path.suffix == ".csv":
            checked += _check_frame(pl.read_csv(path, infer_schema_length=None), str(path))
        elif path.suffix == ".parquet":
            checked += _check_frame(pl.read_parquet(path), str(path))
        elif path.suffix == ".json":
            checked += _check_json(json.loads(path.read_text(encoding="utf-8")), str(path))
        elif path.suffix == ".xlsx":
            checked += _check_xlsx(path)
    assert checked > 50  # the walk really looked at count columns


def test_internal_files_say_so_in_their_first_column_or_key(outputs):
    internal = {p.name for p in outputs.rglob("*") if p.is_file() and "data" not in p.relative_to(outputs).parts[:1]
                and _marked_internal(p)}
    assert internal == {"comp-internal.csv", "caps-internal.csv", "summary-internal.json",  # caps, caps-tiny, planted
                        "panel-internal.parquet", "panel-internal.stayers.parquet", "panel-internal.provenance.json",
                        "panel-small-internal.parquet"}  # the panel with a small department (see _run_evaluate)
    assert all("intern" in name for name in internal)
    assert "internal_almen.csv" in {p.name for p in _published(outputs)}  # published despite its name


def test_the_data_has_small_groups_so_the_walk_means_something(outputs):
    internal = pl.read_csv(outputs / "comp-internal.csv")
    assert (internal.get_column("numerator") < LIMIT).sum() >= 3
    published = pl.read_csv(outputs / "comp.csv", infer_schema_length=None)
    assert published.get_column("suppressed").drop_nulls().len() >= 3
    criteria = pl.read_csv(outputs / "lists" / "criteria.csv", infer_schema_length=None)
    assert {"count", "base", "suppressed"} <= set(criteria.columns)
    areas = pl.read_csv(outputs / "rehouse" / "areas.csv", infer_schema_length=None)
    assert areas.get_column("received").to_list() == [9, None]  # B received 3: suppressed
    assert areas.get_column("suppressed").drop_nulls().len() == 2  # A: 1 outside work; B: its counts
    exact = pl.read_csv(outputs / "caps-tiny" / "caps-internal.csv")
    assert (exact.get_column("adults_18_64") < LIMIT).sum() == 2 and (exact.get_column("residents") < LIMIT).sum() == 2
    caps = pl.read_csv(outputs / "caps-tiny" / "caps.csv", infer_schema_length=None)
    assert caps.height == 3 and caps.get_column("suppressed").drop_nulls().len() == 3
    internal = json.loads((outputs / "rehouse" / "summary-internal.json").read_text(encoding="utf-8"))
    assert internal["unplaced"] == 0  # an exact zero: internal, so not walked
    # the planted area: 48 of 50 residents with a trait, 50 persons in 48 households (a rest of 2)
    exact = pl.read_csv(outputs / "planted" / "comp-internal.csv").filter(pl.col("department_id") == "D5")
    rests = {r["indicator"]: abs(r["denominator"] - r["numerator"]) for r in exact.iter_rows(named=True)}
    assert {k: rests[k] for k in ("share_children", "share_non_western", "mean_household_size")} == {
        "share_children": 2, "share_non_western": 2, "mean_household_size": 2}
    comp = pl.read_csv(outputs / "planted" / "comp.csv", infer_schema_length=None).filter(
        pl.col("department_id") == "D5", pl.col("indicator").is_in(list(rests)))
    assert comp.filter(pl.col("indicator") == "share_children").get_column("suppressed").to_list() == [
        "numerator:secondary,value:numerator"]
    ind = pl.read_csv(outputs / "planted" / "ind.csv", infer_schema_length=None).filter(pl.col("department_id") == "D5")
    assert ind.get_column("residents").to_list() == [50] and ind.get_column("n_non_western").to_list() == [None]
    criteria = pl.read_csv(outputs / "planted" / "lists" / "criteria.csv", infer_schema_length=None).filter(
        (pl.col("area_id") == "A4") & (pl.col("criterion") == "non_western"))
    assert criteria.get_column("base").to_list() == [50] and criteria.get_column("count").to_list() == [None]
    plan = json.loads((outputs / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert plan["chosen"] == ["s1"] and plan["households"] is None and plan["objective"] is None


def test_evaluate_outputs_suppress_the_small_department(outputs):
    """The department with 2 residents in its first year is in the panel the commands read exactly,
    and suppressed in what is published."""
    evaluate = outputs / "evaluate"
    small, first = (evaluate / "small_unit.txt").read_text(encoding="utf-8").split()
    panel = pl.read_parquet(evaluate / "panel-small-internal.parquet").filter(pl.col("department_id") == small)
    assert panel.filter(pl.col("year") == int(first))["residents"].to_list() == [2]
    twin = pl.read_csv(evaluate / "twins" / "twins.csv").filter(pl.col("twin_unit") == small).row(0, named=True)
    assert twin["comp_share_children_twin"] is None and twin["distance"] is None
    assert twin["suppressed"].startswith("n_residents_twin:primary")
    placebo = pl.read_csv(evaluate / "synthcontrol" / "placebo.csv")
    assert placebo.filter(pl.col("att").is_null())["unit"].to_list() == [small]
    for name in ("twins", "synthcontrol", "did"):
        html = (evaluate / name / "report.html").read_text(encoding="utf-8")
        assert DisclosurePolicy.load().version in html
