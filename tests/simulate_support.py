"""Shared inputs of the simulation tests: the small synthetic dataset (tests/synth_data.py) and
one prepared run, computed once per test process."""

from __future__ import annotations

from functools import lru_cache

from synth_data import small_dataset_dir

from boligmix.simulate.run import prepare
from boligmix.simulate.scenario import load_scenario

START = 2023
"""Start early enough that the list years simulated overlap the data (for the backcast)."""


@lru_cache(maxsize=4)
def shared(start: int = START, years: int = 1, seed: int = 3):
    return prepare(small_dataset_dir(), load_scenario("baseline"), start, years, seed)
