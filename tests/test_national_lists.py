"""The national synthetic Denmark gives official list counts of the published order, 2018-2024.

Generates the national scale (seed 1, register years 2004-2024) - or reuses the dataset named by
the environment variable BOLIGMIX_NATIONAL_DATA when its manifest says it was written by this
generator (source, vintage, calibration version = targets.yaml `version`), seed, scale and
years - then computes the lists from the person-level data with the project's own pipeline
(`boligmix.lists.compute_lists`: indicators, rule sets, hårde/omdannelse history from the
dataset's own earlier list years) and compares every count with its published target.

Targets (rules-spec section 9, read from `targets.yaml` list_counts), udsat / ghetto or
parallelsamfund / hårde or omdannelse / forebyggelse:
2018: 43/29/15/-, 2019: 40/28/15/-, 2020: 25/15/13/-, 2021: 20/12/10/62,
2022: 17/10/9/67, 2023: 19/12/8/56, 2024: 12/8/7/63.

Tolerance: |generated - published| <= max(ABS_TOLERANCE, REL_TOLERANCE * published) =
max(4, 30 %). Why: the generator designs areas so that the *expected* counts match (the design
check `profiles.count_lists` averages over the realisation noise); one realised dataset differs
from that expectation by the area-level noise of the person-level simulation (which areas end up
just above or below a threshold), whose standard deviation is 1-4 areas per count (measured as
the spread of the counts over the design's 24 noise replicates, docs/synthetic-data.md). A
tolerance of about two such standard deviations for the small lists (4 areas) and 30 % for the
large forebyggelse list (±19 of 62) tells "of the published order" from a broken calibration,
which puts counts off by a factor (the uncalibrated design gave 2010-2017 ghetto counts of
42-56 against 22-33, and forebyggelse 79 against 62).

Marked `slow` and `national`. The generation runs only when asked for: with `-m national`
(e.g. `pytest -m national`), or BOLIGMIX_RUN_NATIONAL=1, or BOLIGMIX_NATIONAL_DATA set; otherwise
the national tests are skipped with that reason (so a plain `pytest` does not start a
multi-minute generation). `make test` leaves them out (`-m "not national"`); `make test-national`
runs them, and CI runs both. Cost, measured:
`pytest -m national` 183 s wall, 258 s CPU (user + system), 6.8 GB peak; with
BOLIGMIX_NATIONAL_DATA only the lists: 50 s wall, 38 s CPU, 2 GB.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from boligmix.data.io import read_manifest
from boligmix.data.synth import write_synthetic
from boligmix.data.synth.generator import VINTAGE
from boligmix.data.synth.targets import load_targets
from boligmix.lists.counts import official_list_counts

pytestmark = [pytest.mark.slow, pytest.mark.national]

SEED = 1
REGISTER_YEARS = (2004, 2024)
LIST_YEARS = range(2018, 2025)
GHETTO_YEARS = range(2010, 2018)
"""The ghetto lists of the 2010 and 2013 rules, checked from person-level data like the later ones."""
ABS_TOLERANCE = 4
REL_TOLERANCE = 0.30
ENV = "BOLIGMIX_NATIONAL_DATA"
RUN_ENV = "BOLIGMIX_RUN_NATIONAL"
TARGETS = load_targets()


def tolerance(published: int) -> float:
    return max(ABS_TOLERANCE, REL_TOLERANCE * published)


def reusable_problem(path: Path) -> str | None:
    """Why the dataset at `path` is not one this test would generate (None: it is)."""
    manifest = read_manifest(path)
    wanted = {"source": "synthetic", "vintage": VINTAGE, "scale": "national", "seed": SEED,
              "years": REGISTER_YEARS, "calibration": TARGETS.version}
    found = {"source": manifest.source, "vintage": manifest.vintage, "scale": manifest.scale,
             "seed": manifest.seed, "years": tuple(manifest.years) if manifest.years else None,
             "calibration": manifest.notes.get("targets")}
    wrong = [f"{k} {found[k]!r} (want {wanted[k]!r})" for k in wanted if found[k] != wanted[k]]
    return "; ".join(wrong) or None


@pytest.fixture(scope="module")
def national_dataset(tmp_path_factory, request) -> Path:
    given = os.environ.get(ENV)
    asked = "national" in (request.config.option.markexpr or "") or os.environ.get(RUN_ENV) == "1"
    if not given and not asked:
        pytest.skip(f"national generation not requested: run with -m national, {RUN_ENV}=1 or {ENV}=DIR")
    if given:
        path = Path(given)
        problem = reusable_problem(path)
        if problem:
            pytest.fail(f"{ENV}={given} was not written by this generator and seed: {problem}")
        return path
    out = tmp_path_factory.mktemp("national") / "national"
    return write_synthetic(out, scale="national", seed=SEED, years=REGISTER_YEARS)


@pytest.fixture(scope="module")
def counts(national_dataset) -> dict[int, dict[str, int]]:
    # two runs: 2018-2024 exactly as before (their history from the dataset's own earlier list years),
    # and the ghetto lists of the 2010 and 2013 rules
    return {**official_list_counts(national_dataset, GHETTO_YEARS), **official_list_counts(national_dataset, LIST_YEARS)}


@pytest.mark.parametrize("year", GHETTO_YEARS)
def test_ghetto_counts_2010_2017_from_person_level_data(counts, year):
    published = TARGETS.lists[year].get("ghetto")
    generated = counts[year]
    assert set(generated) == {"ghetto"}  # no udsat/forebyggelse lists before 2018
    assert abs(generated["ghetto"] - published) <= tolerance(published), (year, generated, published)


@pytest.fixture(scope="module")
def tables(national_dataset) -> dict:
    from boligmix.data.io import read_table

    return {name: read_table(national_dataset, name) for name in
            ("persons", "residences", "dwellings", "countries")}


@pytest.fixture(scope="module")
def figures(tables) -> dict[str, float]:
    """The generator's population and mobility figures, measured on the dataset."""
    from boligmix.data.synth import checks

    pop = checks.population_by_year(tables, range(2004, 2024))
    h04, h24 = checks.headline(tables, 2004), checks.headline(tables, 2024)
    moves = checks.moves(tables)
    per_year = moves.filter(pl.col("date").dt.year().is_between(2005, 2023)).group_by(
        pl.col("date").dt.year().alias("year")).len()
    residents = {r["year"]: r["residents_1jan"] for r in pop.iter_rows(named=True)}
    return {
        "persons_2004": h04["residents"], "persons_2024": h24["residents"],
        "almen_residents_2024": h24["almen_residents"],
        "births_per_year": float(pop["births"].mean()), "deaths_per_year": float(pop["deaths"].mean()),
        "yearly_move_rate": float(sum(n for _, n in per_year.iter_rows())
                                  / sum(residents[y] for y, _ in per_year.iter_rows())),
        "almen_to_other_almen_share": checks.move_figures(tables, moves)["almen_to_other_almen_share"],
    }


TARGET_TOLERANCE = {
    "persons_2004": ("population", 0.03, "relative"), "persons_2024": ("population", 0.03, "relative"),
    "almen_residents_2024": ("population", 0.15, "relative"),
    "births_per_year": ("population", 0.15, "relative"), "deaths_per_year": ("population", 0.15, "relative"),
    "yearly_move_rate": ("mobility", 0.03, "absolute"), "almen_to_other_almen_share": ("mobility", 0.10, "absolute"),
}
"""targets.yaml figure -> (section, tolerance, kind): persons within 3 %, almen residents, births and
deaths a year (mean 2004-2023) within 15 %, the yearly move rate within 3 percentage points and the
share of almen moves to another almen department within 10 points (as the small-scale test)."""


@pytest.mark.parametrize("name", sorted(TARGET_TOLERANCE))
def test_population_and_mobility_targets(figures, name):
    section, tolerance, kind = TARGET_TOLERANCE[name]
    target = TARGETS.value(section, name)
    off = abs(figures[name] / target - 1) if kind == "relative" else abs(figures[name] - target)
    assert off <= tolerance, (name, figures[name], target)


def test_the_targets_are_the_published_counts():
    published = {y: tuple(TARGETS.lists[y].get(k) for k in ("udsat", "ghetto", "haardt", "forebyggelse"))
                 for y in LIST_YEARS}
    assert published == {2018: (43, 29, 15, None), 2019: (40, 28, 15, None), 2020: (25, 15, 13, None),
                         2021: (20, 12, 10, 62), 2022: (17, 10, 9, 67), 2023: (19, 12, 8, 56),
                         2024: (12, 8, 7, 63)}


@pytest.mark.parametrize("year", LIST_YEARS)
def test_national_list_counts_are_of_the_published_order(counts, year):
    target = TARGETS.lists[year]
    generated = counts[year]
    off = {}
    for key in ("udsat", "ghetto", "haardt", "forebyggelse"):
        published = target.get(key)
        if published is None:
            assert key not in generated, (year, key)
            continue
        if abs(generated[key] - published) > tolerance(published):
            off[key] = (generated[key], published, tolerance(published))
    assert not off, f"list year {year}: (generated, published, tolerance) {off}; all counts {generated}"


def test_lists_are_nested_as_published(counts):
    for year in LIST_YEARS:
        c = counts[year]
        assert c["haardt"] <= c["ghetto"] <= c["udsat"], (year, c)
