"""boligmix's segregation indices agree with PySAL `segregation` to 1e-9.

The reference values were computed by PySAL (version recorded in reference.json) with
scripts/make_segregation_reference.py; the suite itself needs no PySAL.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from boligmix.cli.main import app
from boligmix.mix.segregation import multigroup_indices, segregation_table, two_group_indices
from boligmix.mix.segregation.registry import MULTIGROUP_INDICES, TWO_GROUP_INDICES

DATA = Path(__file__).parent / "data" / "segregation"
REFERENCE = json.loads((DATA / "reference.json").read_text(encoding="utf-8"))
DATASETS = sorted(REFERENCE["datasets"])
TOL = 1e-9


def _load(name: str) -> tuple[pl.DataFrame, dict]:
    entry = REFERENCE["datasets"][name]
    return pl.read_csv(DATA / entry["file"]), entry


def _absent(frame: pl.DataFrame, group: str) -> bool:
    return int(frame[group].sum()) == 0


def test_reference_records_its_provenance():
    assert REFERENCE["versions"]["segregation"]
    assert set(REFERENCE["definitions"]) == set(TWO_GROUP_INDICES) | set(MULTIGROUP_INDICES)
    assert len(DATASETS) >= 5


@pytest.mark.parametrize("name", DATASETS)
def test_two_group_indices_match_pysal(name):
    frame, entry = _load(name)
    for group, expected in entry["two_group"].items():
        if _absent(frame, group):
            continue  # undefined here; see test_absent_group_is_undefined_not_zero
        results = two_group_indices(frame[group].to_numpy(), frame["total"].to_numpy())
        ours = {r.name: r.statistic for r in results}
        assert list(ours) == list(expected)
        for index, value in expected.items():
            assert ours[index] == pytest.approx(value, abs=TOL, rel=0), (name, group, index)


@pytest.mark.parametrize("name", DATASETS)
def test_multigroup_indices_match_pysal(name):
    frame, entry = _load(name)
    ours = {r.name: r.statistic for r in multigroup_indices(frame.select(entry["groups"]).to_numpy())}
    expected = entry["multigroup"]
    for index, value in expected.items():
        if value is None:  # PySAL's NaN: MultiInfoTheory with a group absent everywhere
            assert index == "multi_information_theory"
            value = entry["multigroup_without_absent"][index]
        assert ours[index] == pytest.approx(value, abs=TOL, rel=0), (name, index)


def test_absent_group_is_undefined_not_zero():
    """PySAL returns NaN or 0.0 for a group absent everywhere; boligmix reports 'undefined'."""
    frame, entry = _load("zero_group_100")
    table = segregation_table(frame, unit="unit", groups=["g3"], total="total")
    assert table["value"].null_count() == len(TWO_GROUP_INDICES)
    pysal = entry["two_group"]["g3"]
    assert pysal["dissimilarity"] is None and pysal["isolation"] == 0.0  # what PySAL does instead


def _stacked() -> pl.DataFrame:
    """All datasets in one long table, the dataset name as slice key."""
    frames = []
    for name in DATASETS:
        frame, _ = _load(name)
        frames.append(frame.select("unit", "g1", "g2", "g3", "total").with_columns(dataset=pl.lit(name)))
    return pl.concat(frames)


def test_segregation_table_matches_pysal_in_every_slice():
    """Vectorised across slices of different sizes, each slice equals PySAL's value."""
    stacked = _stacked().sample(fraction=1.0, shuffle=True, seed=3)  # row order must not matter
    for group in ("g1", "g2"):
        table = segregation_table(stacked, unit="unit", groups=[group], total="total", by=["dataset"])
        assert table.height == len(DATASETS) * len(TWO_GROUP_INDICES)
        for dataset, index, value in table.iter_rows():
            expected = REFERENCE["datasets"][dataset]["two_group"][group][index]
            assert value == pytest.approx(expected, abs=TOL, rel=0), (dataset, group, index)


def test_multigroup_table_matches_pysal_in_every_slice():
    stacked = _stacked().filter(pl.col("dataset").is_in([d for d in DATASETS if "g4" not in
                                                         REFERENCE["datasets"][d]["groups"]]))
    table = segregation_table(stacked, unit="unit", groups=["g1", "g2", "g3"], by=["dataset"])
    for dataset, index, value in table.iter_rows():
        entry = REFERENCE["datasets"][dataset]
        expected = entry["multigroup"][index]
        if expected is None:
            expected = entry["multigroup_without_absent"][index]
        assert value == pytest.approx(expected, abs=TOL, rel=0), (dataset, index)


@pytest.mark.parametrize("name", ["random_200", "skewed_500"])
def test_cli_output_matches_pysal(tmp_path, name):
    entry = REFERENCE["datasets"][name]
    runner = CliRunner()
    two = tmp_path / "two.csv"
    result = runner.invoke(app, ["segregation", "--units", str(DATA / entry["file"]), "--groups", "g1",
                                 "--total", "total", "--out", str(two), "--quiet"])
    assert result.exit_code == 0, result.output
    out = pl.read_csv(two)
    assert out.columns == ["index", "value"]
    assert out["index"].to_list() == list(TWO_GROUP_INDICES)
    expected = list(entry["two_group"]["g1"].values())
    np.testing.assert_allclose(out["value"].to_numpy(), expected, rtol=0, atol=TOL)

    multi = tmp_path / "multi.csv"
    result = runner.invoke(app, ["segregation", "--units", str(DATA / entry["file"]), "--groups",
                                 ",".join(entry["groups"]), "--out", str(multi), "--quiet"])
    assert result.exit_code == 0, result.output
    out = pl.read_csv(multi)
    assert out["index"].to_list() == list(MULTIGROUP_INDICES)
    np.testing.assert_allclose(out["value"].to_numpy(), list(entry["multigroup"].values()), rtol=0, atol=TOL)
    assert not any(math.isnan(v) for v in out["value"])
