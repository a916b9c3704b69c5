"""The synthetic generator: schema conformity, consistency of residences, accounting, determinism."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import polars as pl
import pytest

from boligmix.data.io import read_manifest
from boligmix.data.schema import REQUIRED_TABLES, TABLES
from boligmix.data.synth import generate, write_synthetic
from boligmix.data.synth.checks import move_figures, moves, population_by_year, residents_on
from boligmix.data.synth.generator import check_years
from boligmix.errors import ConfigurationError, DatasetError
from synth_data import SEED, YEARS, small_dataset_dir, small_tables

POLARS_TYPES = {"int64": pl.Int64, "float64": pl.Float64, "string": pl.String, "bool": pl.Boolean,
                "date": pl.Date}


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return small_tables()


@pytest.mark.parametrize("name", REQUIRED_TABLES)
def test_table_matches_schema(tables, name):
    spec = TABLES[name]
    frame = tables[name]
    assert frame.columns == list(spec.column_names)
    assert frame.height > 0
    for col in spec.columns:
        series = frame[col.name]
        assert series.dtype == POLARS_TYPES[col.dtype], (name, col.name, series.dtype)
        if not col.nullable:
            assert series.null_count() == 0, (name, col.name)
        values = series.drop_nulls()
        if col.allowed is not None:
            assert set(values.unique().to_list()) <= set(col.allowed), (name, col.name)
        if col.minimum is not None and values.len():
            assert values.min() >= col.minimum, (name, col.name)
        if col.maximum is not None and values.len():
            assert values.max() <= col.maximum, (name, col.name)
    assert frame.select(spec.primary_key).is_duplicated().sum() == 0, name


@pytest.mark.parametrize("name", REQUIRED_TABLES)
def test_foreign_keys_resolve(tables, name):
    for col in TABLES[name].columns:
        if not col.references:
            continue
        target_table, target_col = col.references.split(".")
        values = tables[name].select(pl.col(col.name).alias("key")).drop_nulls().unique()
        known = tables[target_table].select(pl.col(target_col).alias("key")).unique()
        missing = values.join(known, on="key", how="anti")
        assert missing.height == 0, f"{name}.{col.name} -> {col.references}: {missing.head(3)}"


def test_every_required_table_is_generated(tables):
    assert set(tables) == set(REQUIRED_TABLES)


def test_municipalities_and_regions_are_real_codes(tables):
    munis = tables["municipalities"]
    assert set(munis["municipality_code"].to_list()) == {461, 440}
    assert munis.filter(pl.col("municipality_code") == 461)["municipality_name"].item() == "Odense"
    assert set(tables["regions"]["region_code"].to_list()) == {1081, 1082, 1083, 1084, 1085}


def test_residence_spells_of_a_person_do_not_overlap_and_chain(tables):
    res = tables["residences"].sort(["person_id", "move_in"])
    chained = res.with_columns(
        pl.col("move_in").shift(-1).over("person_id").alias("next_in"),
    ).filter(pl.col("next_in").is_not_null())
    # each spell that is followed by another ends exactly when the next begins, without a reason
    assert chained.filter(pl.col("move_out").is_null()).height == 0
    assert (chained["move_out"] == chained["next_in"]).all()
    assert chained["end_reason"].null_count() == chained.height
    assert (res.filter(pl.col("move_out").is_not_null())
            .filter(pl.col("move_out") < pl.col("move_in")).height == 0)
    # a spell with an end reason is the person's last
    last = res.group_by("person_id").agg(pl.col("end_reason").last(), pl.col("move_out").last())
    ended = res.filter(pl.col("end_reason").is_not_null()).height
    assert ended == last.filter(pl.col("end_reason").is_not_null()).height


def test_a_dwelling_holds_at_most_one_household_at_a_time(tables):
    res = tables["residences"].with_columns(pl.col("move_out").fill_null(date(2100, 1, 1)))
    other = res.select("dwelling_id", pl.col("household_id").alias("h2"), pl.col("move_in").alias("in2"),
                       pl.col("move_out").alias("out2"))
    clash = res.join(other, on="dwelling_id").filter(
        (pl.col("household_id") != pl.col("h2")) & (pl.col("move_in") < pl.col("out2"))
        & (pl.col("in2") < pl.col("move_out")))
    assert clash.height == 0, clash.head()


def test_nobody_lives_anywhere_before_birth(tables):
    first = tables["residences"].group_by("person_id").agg(pl.col("move_in").min()).join(
        tables["persons"], on="person_id")
    assert first.filter(pl.col("move_in") < pl.col("birth_date")).height == 0


def test_population_accounting_balances_every_year(tables):
    pop = population_by_year(tables, range(YEARS[0], YEARS[1]))
    balance = (pop["residents_1jan"] + pop["births"] + pop["immigrants"] - pop["deaths"] - pop["emigrants"])
    assert (balance == pop["residents_next_1jan"]).all()
    assert (pop["births"] > 0).all() and (pop["deaths"] > 0).all()
    assert (pop["immigrants"] > 0).all() and (pop["emigrants"] > 0).all()


def test_population_by_year_equals_counting_each_day_and_group_on_its_own(tables):
    """The one-pass counts (residents on each 1 January from the spells' first and last new years, one
    sort for entries and exits) against the direct computation: `residents_on` per day and a group_by
    per column."""
    years = range(YEARS[0], YEARS[1])
    pop = population_by_year(tables, years)
    res, persons = tables["residences"], tables["persons"].select("person_id", "birth_date")
    first = res.group_by("person_id").agg(pl.col("move_in").min().alias("entry")).join(persons, on="person_id")
    last = res.sort("move_in").group_by("person_id").agg(pl.col("move_out").last(), pl.col("end_reason").last())
    for row in pop.iter_rows(named=True):
        t0, t1 = date(row["year"], 1, 1), date(row["year"] + 1, 1, 1)
        assert row["residents_1jan"] == residents_on(res, t0).height
        assert row["residents_next_1jan"] == residents_on(res, t1).height
        entries = first.filter((pl.col("entry") > t0) & (pl.col("entry") <= t1))
        exits = last.filter((pl.col("move_out") > t0) & (pl.col("move_out") <= t1))
        assert row["births"] + row["immigrants"] == entries.height
        assert row["births"] == entries.filter(pl.col("entry") == pl.col("birth_date")).height
        assert row["deaths"] == exits.filter(pl.col("end_reason") == "death").height
        assert row["emigrants"] == exits.filter(pl.col("end_reason") == "abroad").height


def test_moves_pair_each_spell_with_the_persons_next_spell_elsewhere(tables):
    res = tables["residences"].sort("person_id", "move_in")
    nxt = res.with_columns(pl.col("dwelling_id").shift(-1).over("person_id").alias("to")).filter(
        pl.col("to").is_not_null() & (pl.col("to") != pl.col("dwelling_id")))
    mv = moves(tables)
    assert mv.select("person_id", "date").equals(nxt.select("person_id", pl.col("move_out").alias("date")))
    to_area = tables["dwellings"].select(pl.col("dwelling_id").alias("to"), pl.col("area_id").alias("to_area_id"))
    assert mv["to_area_id"].equals(nxt.join(to_area, on="to", how="left", maintain_order="left")["to_area_id"])
    assert move_figures(tables, mv) == move_figures(tables)


def test_person_years_cover_exactly_the_years_a_person_lived_in_denmark(tables):
    res = tables["residences"]
    py = tables["person_years"]
    for year in (2004, 2014, 2024):
        t0, t1 = date(year, 1, 1), date(year + 1, 1, 1)
        present = res.filter((pl.col("move_in") < t1) & (pl.col("move_out").is_null() | (pl.col("move_out") > t0)))
        assert set(present["person_id"].unique().to_list()) == set(
            py.filter(pl.col("year") == year)["person_id"].to_list())


def test_labour_fte_per_person_year_is_at_most_one(tables):
    total = tables["labour"].group_by("person_id", "year").agg(pl.col("fte").sum())
    assert total["fte"].max() <= 1.0 + 1e-9


def test_immigrants_with_foreign_education_are_not_dk_registered(tables):
    adults = tables["person_years"].filter(pl.col("year") == 2020).join(tables["persons"], on="person_id")
    imm = adults.filter(pl.col("origin") == "indvandrer")
    dansk = adults.filter(pl.col("origin") == "dansk")
    assert (imm["education_source"] != "dk_registered").mean() > 0.3
    assert (dansk["education_source"].is_in(["self_reported", "imputed"])).sum() == 0


def test_area_polygons_are_wkt_in_utm32(tables):
    for wkt in tables["areas"]["polygon_wkt"].to_list():
        assert wkt.startswith("POLYGON((")
        x, y = (float(v) for v in wkt[len("POLYGON(("):].split(",")[0].split())
        assert 400_000 < x < 900_000 and 6_000_000 < y < 6_450_000


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    first = small_dataset_dir()
    again = write_synthetic(tmp_path / "again", scale="small", seed=SEED, years=YEARS)
    for name in REQUIRED_TABLES:
        assert (first / f"{name}.parquet").read_bytes() == (again / f"{name}.parquet").read_bytes(), name
    m1, m2 = read_manifest(first), read_manifest(again)
    assert m1.model_dump(exclude={"created_at"}) == m2.model_dump(exclude={"created_at"})
    assert (m1.source, m1.vintage, m1.seed, m1.scale, m1.years) == ("synthetic", "synthetic-v1", SEED, "small", YEARS)
    assert m1.tables["persons"] > 20_000
    other = write_synthetic(tmp_path / "other", scale="small", seed=SEED + 1, years=(2004, 2008))
    assert (first / "persons.parquet").read_bytes() != (other / "persons.parquet").read_bytes()
    assert json.loads((other / "manifest.json").read_text())["years"] == [2004, 2008]


def test_existing_dataset_is_not_overwritten_without_permission(tmp_path):
    target = tmp_path / "ds"
    target.mkdir()
    with pytest.raises(DatasetError, match="exists"):
        write_synthetic(target, scale="small", seed=1, years=(2004, 2005))


def test_in_memory_generation_equals_written_dataset_for_short_runs(tmp_path):
    tables = generate("small", 3, years=(2010, 2012))
    path = write_synthetic(tmp_path / "s", scale="small", seed=3, years=(2010, 2012))
    from boligmix.data.io import read_table
    for name in ("persons", "residences", "labour"):
        assert read_table(path, name).equals(tables[name])
    assert tables["person_years"]["year"].unique().sort().to_list() == [2010, 2011, 2012]


@pytest.mark.parametrize("years", [(2024, 2004), ("abc", 2004), (1900, 1950)])
def test_bad_years_are_a_clear_error(years):
    with pytest.raises(ConfigurationError, match="year"):
        check_years(years)


def test_unknown_scale_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="unknown scale 'huge'"):
        generate("huge", 1, years=(2004, 2005))


def test_progress_is_reported_and_ends_complete():
    seen: list[tuple[str, float]] = []
    generate("small", 2, years=(2004, 2005), on_progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert np.all(np.diff(fractions) >= 0)


def test_in_memory_national_scale_is_refused_and_points_to_the_streaming_writer():
    with pytest.raises(ConfigurationError, match="write_synthetic"):
        generate("national", 1, years=(2004, 2004))
