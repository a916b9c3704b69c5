"""`compute_mix` on a dataset path loads only the register years its years read (so the national
scale fits in memory) and gives exactly the tables of a full load."""

from __future__ import annotations

from boligmix.mix.pipeline import compute_mix
from boligmix.mix.population import load_mix_data, register_years
from synth_data import YEARS, small_dataset_dir


def test_loading_only_the_needed_years_changes_nothing():
    ds = small_dataset_dir()
    years = [2015, 2016]
    partial = load_mix_data(ds, years)
    assert set(partial.person_years.get_column("year").unique()) == {2013, 2014, 2015, 2016, 2017}
    assert partial.register_years == register_years(ds) == YEARS
    full, lean = compute_mix(load_mix_data(ds), years), compute_mix(ds, years)
    for name, table in full.tables.items():
        assert table.equals(lean.tables[name]), name
