"""Engine applicants from data-model tables (`boligmix.letting.register`): hand-computed
month derivations, a hand-written dataset and the small synthetic Denmark."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from boligmix.data.io import read_table
from boligmix.data.synth import write_synthetic
from boligmix.errors import DatasetError
from boligmix.letting.engine import LettingEngine
from boligmix.letting.facts import derive_benefit_months
from boligmix.letting.model import Applicant, Household, HouseholdMember, ListType, MemberRole, Outcome
from boligmix.letting.policy import load_default_policies
from boligmix.letting.register import (
    RegisterOptions,
    applicants_from_dataset,
    benefit_history,
    covered_years,
    fte_months,
)

KH = frozenset({"kontanthjaelp"})


@pytest.mark.parametrize("fte, rounding, months", [
    (0.5, "round", 6), (1.0, "round", 12), (0.0, "round", 0), (0.04, "round", 0), (0.0417, "round", 1),
    (0.45, "round", 5), (0.45, "floor", 5), (0.45, "ceil", 6), (0.5, "ceil", 6), (0.5, "floor", 6),
])
def test_fte_months(fte, rounding, months):
    assert fte_months(fte, rounding) == months


def solo(history) -> Applicant:
    return Applicant(1, "O", ListType.EXTERNAL, date(2020, 1, 1),
                     Household(1, (HouseholdMember(1, MemberRole.APPLICANT, date(1980, 1, 1), None, history),)))


def test_half_a_year_of_kontanthjaelp_is_six_months_at_the_end_of_the_year():
    h = benefit_history([(2023, "kontanthjaelp", 0.5), (2022, "kontanthjaelp", 0.25)], 2021, 2023, date(2024, 1, 15))
    assert (h.known_from, h.known_to) == (date(2021, 1, 1), date(2023, 12, 1))
    assert [(s.first_month, s.last_month) for s in h.spells] == [
        (date(2022, 10, 1), date(2022, 12, 1)), (date(2023, 7, 1), date(2023, 12, 1))]
    # assessed in January 2024: the window Jul-Dec 2023 is all kontanthjælp
    assert derive_benefit_months(solo(h), date(2024, 1, 15), benefits=KH, months=6, who="applicant").value is True
    # assessed in June 2024: the window Dec 2023 - May 2024 reaches into unknown months -> UNKNOWN
    assert derive_benefit_months(solo(h), date(2024, 6, 15), benefits=KH, months=6, who="applicant").value is None
    # start-of-year placement: Jan-Jun 2023, so January 2024's window has 0 months in a row at its end
    start = benefit_history([(2023, "kontanthjaelp", 0.5)], 2021, 2023, date(2024, 1, 15),
                            RegisterOptions(placement="start_of_year"))
    assert derive_benefit_months(solo(start), date(2024, 1, 15), benefits=KH, months=6, who="applicant").value is False


def test_continue_december_switch():
    rows = [(2023, "kontanthjaelp", 0.5), (2023, "employment", 0.25)]
    h = benefit_history(rows, 2021, 2023, date(2024, 6, 15), RegisterOptions(current_year="continue_december"))
    assert h.known_to == date(2024, 5, 1)
    assert [(s.benefit, s.first_month, s.last_month) for s in h.spells] == [
        ("employment", date(2023, 10, 1), date(2024, 5, 1)), ("kontanthjaelp", date(2023, 7, 1), date(2024, 5, 1))]
    assert derive_benefit_months(solo(h), date(2024, 6, 15), benefits=KH, months=6, who="applicant").value is True


def test_covered_years():
    opts = RegisterOptions(lookback_years=3)
    assert covered_years([2018, 2019, 2020, 2021, 2022, 2023, 2024], date(2024, 3, 1), opts) == (2021, 2023)
    assert covered_years([2020, 2022, 2023], date(2024, 3, 1), opts) == (2022, 2023)   # a gap ends coverage
    assert covered_years([2024], date(2024, 3, 1), opts) is None


# ---------------------------------------------------------------------------------------------
# A hand-written dataset with an applicants table


@pytest.fixture()
def handmade(tmp_path):
    d = date
    pl.DataFrame({"person_id": [1, 2, 3, 4, 5], "birth_date": [d(1980, 1, 1), d(1984, 6, 1), d(2012, 1, 1),
                                                                d(1950, 1, 1), d(1990, 1, 1)],
                  "sex": ["F", "M", "F", "M", "F"], "origin": ["dansk"] * 5, "country_code": ["DNK"] * 5}
                 ).write_parquet(tmp_path / "persons.parquet")
    pl.DataFrame({"person_id": [1, 2, 2, 3, 4, 5], "household_id": [10, 99, 10, 10, 20, 10],
                  "dwelling_id": [100, 300, 100, 100, 200, 100],
                  "move_in": [d(2015, 1, 1), d(2018, 1, 1), d(2023, 2, 1), d(2015, 1, 1), d(2000, 1, 1),
                              d(2015, 1, 1)],
                  "move_out": [None, d(2023, 2, 1), None, None, d(2020, 1, 1), d(2023, 6, 1)],
                  "end_reason": [None] * 6}).write_parquet(tmp_path / "residences.parquet")
    pl.DataFrame({"dwelling_id": [100, 200, 300], "department_id": ["D1", None, None]}
                 ).write_parquet(tmp_path / "dwellings.parquet")
    pl.DataFrame({"department_id": ["D1"], "org_id": ["ORG1"]}).write_parquet(tmp_path / "departments.parquet")
    pl.DataFrame({"org_id": ["ORG1"]}).write_parquet(tmp_path / "housing_organisations.parquet")
    pl.DataFrame({"person_id": [1, 1, 2, 2], "year": [2022, 2023, 2023, 2024],
                  "attachment": ["kontanthjaelp", "kontanthjaelp", "employment", "employment"],
                  "fte": [1.0, 0.5, 0.75, 1.0]}).write_parquet(tmp_path / "labour.parquet")
    pl.DataFrame({"applicant_id": [7, 8], "household_id": [10, 20], "org_id": ["ORG1", "ORG1"],
                  "list_type": ["external", "internal"], "seniority_date": [d(2019, 1, 1), d(2010, 1, 1)],
                  "household_size": [3, 2], "min_rooms": [2, 1], "max_rent_dkk": [8000.0, None]}
                 ).write_parquet(tmp_path / "applicants.parquet")
    return tmp_path


def test_applicants_table_households_roles_and_histories(handmade):
    a7, a8 = applicants_from_dataset(handmade, date(2024, 1, 15))
    assert (a7.applicant_id, a7.list_type, a7.min_rooms, a7.max_rent_dkk) == (7, ListType.EXTERNAL, 2, 8000.0)
    roles = {m.person_id: m.role for m in a7.household.members}
    # person 5 moved out in 2023; 1 is the oldest adult, 2 the partner, 3 a child
    assert roles == {1: MemberRole.APPLICANT, 2: MemberRole.COHABITANT, 3: MemberRole.CHILD}
    partner = next(m for m in a7.household.members if m.person_id == 2)
    assert partner.cohabiting_since == date(2023, 2, 1)      # joined household 10 then
    assert (a7.current_department_id, a7.current_org_id) == ("D1", "ORG1")
    head = a7.household.applicant
    assert head.benefits.known_from == date(2022, 1, 1) and head.benefits.known_to == date(2023, 12, 1)
    assert [(s.first_month, s.last_month) for s in head.benefits.spells] == [
        (date(2022, 1, 1), date(2022, 12, 1)), (date(2023, 7, 1), date(2023, 12, 1))]
    # 2024 labour rows are not used for a January 2024 reference date (incomplete year)
    assert [s.first_month for s in partner.benefits.spells] == [date(2023, 4, 1)]
    assert a7.facts["household.employed_or_in_education"] is True       # partner 0.75 FTE employed in 2023
    # applicant 8's household no longer lives anywhere on the date: placeholder with unknown facts
    assert a8.household.household_id is None and a8.household.size == 2
    assert all(m.benefits is None for m in a8.household.members)
    assert "household.employed_or_in_education" not in a8.facts


def test_partner_under_two_years_does_not_count_so_applicant_alone_is_rejected_by_51c(handmade):
    from letting_factories import dwelling, vacancy

    a7, _ = applicants_from_dataset(handmade, date(2024, 1, 15))
    omdannelse = vacancy(dwelling(1, rooms=3, categories=("udsat", "parallelsamfund", "omdannelse")))
    now = __import__("datetime").datetime(2024, 1, 15, 10)
    # § 51 c asks whether they receive the benefits now (January 2024), which the registers do not
    # cover yet: held by default; the receipt_month switch reads December 2023 instead.
    held = LettingEngine(load_default_policies()).next_offers(omdannelse, [a7], None, now)
    assert [x for x in held.decisions if x.applicant_id == 7][0].unknown_facts == ("listed_benefits_now",)
    r = LettingEngine(lagging_register_policies(handmade.parent)).next_offers(omdannelse, [a7], None, now)
    d = [x for x in r.decisions if x.applicant_id == 7][0]
    assert d.outcome == Outcome.REJECTED and d.rule_id == "t.51c-register#listed_benefits"


def lagging_register_policies(tmp_dir):
    """The statutory policies with § 51 c reading the month before the assessment (register data)."""
    from boligmix.letting.policy import POLICY_DIR, load_policies

    folder = tmp_dir / "lagging_policies"
    folder.mkdir(exist_ok=True)
    (folder / "51c.yaml").write_text(
        "id: t.51c-register\nbase: dk.almenboligloven.51c\nversion: '1'\neffective_from: 2019-07-01\n"
        "scope: {municipality_codes: [461], area_categories: [omdannelse]}\n"
        "switches: {receipt_month: previous_month}\n", encoding="utf-8")
    return load_policies([POLICY_DIR / "statutory", folder])


def test_sampling_arguments_only_without_an_applicants_table(handmade):
    with pytest.raises(DatasetError, match="applicants table"):
        applicants_from_dataset(handmade, date(2024, 1, 15), sample=3, rng=np.random.default_rng(1))
    (handmade / "applicants.parquet").unlink()
    with pytest.raises(DatasetError, match="sample=N"):
        applicants_from_dataset(handmade, date(2024, 1, 15))


# ---------------------------------------------------------------------------------------------
# The small synthetic Denmark (no applicants table)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("synth") / "ds", scale="small", seed=1, years=(2020, 2024))


def test_synthetic_sample_is_seeded_and_matches_the_registers(synthetic):
    on = date(2024, 1, 15)
    first = applicants_from_dataset(synthetic, on, sample=60, rng=np.random.default_rng(5))
    again = applicants_from_dataset(synthetic, on, sample=60, rng=np.random.default_rng(5))
    assert first == again and len(first) == 60
    assert applicants_from_dataset(synthetic, on, sample=60, rng=np.random.default_rng(6)) != first
    # oracle: household members = persons whose residence spell covers the date (computed independently)
    res = read_table(synthetic, "residences").to_pandas()
    ts = np.datetime64(on)
    living = res[(res.move_in.values.astype("datetime64[D]") <= ts)
                 & (res.move_out.isna() | (res.move_out.values.astype("datetime64[D]") > ts))]
    pids = [m.person_id for a in first for m in a.household.members]
    labour = read_table(synthetic, "labour").filter(pl.col("person_id").is_in(pids)).to_pandas()
    for a in first:
        expected = set(living[living.household_id == a.household_id].person_id)
        assert {m.person_id for m in a.household.members} == expected
        assert a.seniority_date < on and a.min_rooms == max(1, -(-a.household.size // 2))
        for m in a.household.members:
            rows = labour[(labour.person_id == m.person_id) & labour.year.between(2021, 2023)]
            months = sum((s.last_month.year * 12 + s.last_month.month) - (s.first_month.year * 12 + s.first_month.month)
                         + 1 for s in m.benefits.spells)
            assert months == sum(fte_months(f) for f in rows.fte)


def test_synthetic_applicants_run_through_the_engine(synthetic):
    from letting_factories import dwelling, vacancy

    on = date(2024, 1, 15)
    apps = applicants_from_dataset(synthetic, on, sample=80, rng=np.random.default_rng(2), org_ids=["ORG1"])
    assert {a.org_id for a in apps} == {"ORG1"}
    engine = LettingEngine(lagging_register_policies(synthetic.parent))
    r = engine.next_offers(vacancy(dwelling(1, rooms=3, categories=("udsat", "parallelsamfund", "omdannelse"))),
                           apps, None, __import__("datetime").datetime(2024, 1, 15, 10))
    considered = {d.applicant_id for d in r.decisions if d.applicant_id is not None}
    assert considered == {a.applicant_id for a in apps}
    assert len(r.offers) == 3


def test_simulate_cli_takes_the_waiting_list_from_a_dataset(synthetic, tmp_path):
    import json

    from typer.testing import CliRunner

    from boligmix.cli.main import app

    runner = CliRunner()
    args = ["letting", "simulate", "--out", str(tmp_path / "log.jsonl"), "--dataset", str(synthetic),
            "--on", "2024-01-15", "--applicants", "40", "--vacancies", "6", "--json", "--quiet"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    meta = json.loads((tmp_path / "log.jsonl.meta.json").read_text(encoding="utf-8"))
    assert meta["waiting_list"] == 40 and meta["reference_date"] == "2024-01-15" and meta["dataset_seed"] == 1
    assert meta["register_options"]["placement"] == "end_of_year"
    log = (tmp_path / "log.jsonl").read_text(encoding="utf-8")
    assert runner.invoke(app, args).exit_code == 0
    assert (tmp_path / "log.jsonl").read_text(encoding="utf-8") == log       # same seed, same log
    # in June the registers do not cover the last 6 months: continue_december holds fewer applicants
    # (80 applicants: among 40, every one held in June may be held for facts other than the current year's)
    held = {}
    for current in ("unknown", "continue_december"):
        june = [{"2024-01-15": "2024-06-15", "40": "80"}.get(a, a) for a in args] + ["--current-year", current]
        result = runner.invoke(app, june)
        assert result.exit_code == 0, result.output
        meta = json.loads((tmp_path / "log.jsonl.meta.json").read_text(encoding="utf-8"))
        assert meta["register_options"]["current_year"] == current
        held[current] = meta["held_for_unknown_facts"]
    assert held["continue_december"] < held["unknown"]
    bad = runner.invoke(app, ["letting", "simulate", "--out", str(tmp_path / "x.jsonl"), "--on", "2024-01-15"])
    assert bad.exit_code == 2
    missing = runner.invoke(app, ["letting", "simulate", "--out", str(tmp_path / "y.jsonl"),
                                  "--dataset", str(tmp_path / "nope")])
    assert missing.exit_code == 2


def test_bad_applicant_rows_name_file_row_and_column(handmade):
    from boligmix.errors import DataValidationError

    table = pl.read_parquet(handmade / "applicants.parquet")
    table.with_columns(pl.Series("list_type", ["external", "waiting"])).write_parquet(handmade / "applicants.parquet")
    with pytest.raises(DataValidationError) as err:
        applicants_from_dataset(handmade, date(2024, 1, 15))
    assert err.value.row == 2 and err.value.column == "list_type" and err.value.path.endswith("applicants.parquet")
    table.with_columns(pl.Series("min_rooms", [0, 1])).write_parquet(handmade / "applicants.parquet")
    with pytest.raises(DataValidationError) as err:
        applicants_from_dataset(handmade, date(2024, 1, 15))
    assert err.value.row == 1 and err.value.column == "min_rooms"
    # rows are reported as they stand in the file, not in id order
    table.reverse().with_columns(pl.Series("list_type", ["external", "bad"])).write_parquet(
        handmade / "applicants.parquet")
    with pytest.raises(DataValidationError) as err:
        applicants_from_dataset(handmade, date(2024, 1, 15))
    assert err.value.row == 2 and "applicant 7" in str(err.value)
